"""Line-breaking hints added to the HTML of the content: a typesetter's rules that CSS alone
cannot say.

- The last word of a paragraph (or list item) is never hyphenated: it is wrapped in
  `<span class="last-word">`, which print.css sets `hyphens: manual`, so a paragraph never
  ends on a scrap such as "traf-/ficking.".
- An address printed as a link's text (a URL, an e-mail address, a phone number) is never
  hyphenated (print.css) and breaks only at its punctuation: a `<wbr>` (a break opportunity
  with no character) goes before `.`, `/`, `@`, `?`, `#`, `&`, `=`, `_`, `-` and after `//`,
  as style guides advise (Chicago 6.17), so whoever types it from paper types what is there.
  Phone numbers do not break at all.

On paper, links also carry what a reader needs without a mouse (see typeset_html).

Only the markup changes; the text is the content's, character for character (extracted text
and copy-paste give it back unchanged).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection

#: the last run of non-space text before a paragraph or list item closes, when it is a word
#: long enough to be hyphenated at all (6 letters: hyphenate-limit-chars in print.css)
#: (never Khmer, which is not hyphenated, and whose runs must stay whole for /ActualText)
_LAST_WORD = re.compile(
    r"(?<=[\s>])([^\s<>\u1780-\u17ff\u19e0-\u19ff]*\w{6,}[^\s<>\u1780-\u17ff\u19e0-\u19ff]*)"
    r"(\s*</(?:p|li)>)")
#: a link and its text, when the text has no markup of its own
_LINK = re.compile(r'(<a\b[^>]*\bhref="([^"]*)"[^>]*>)([^<]+)(</a>)')
_ADDRESS_BREAK = re.compile(r"(//)|([./@?#&=_\-])")


def _break_address(text: str) -> str:
    """Pieces that never break inside (`.address-part`, white-space: nowrap: not even after
    one of the address's own hyphens, where a reader would take it for a hyphenation), with a
    break opportunity between them."""
    pieces: list[str] = []
    last = 0
    for match in _ADDRESS_BREAK.finditer(text):
        cut = match.end() if match.group(1) else match.start()
        if cut > last:
            pieces.append(text[last:cut])
            last = cut
    pieces.append(text[last:])
    return "<wbr>".join(
        f'<span class="address-part">{html.escape(piece)}</span>' for piece in pieces if piece
    )


def _looks_like_address(text: str) -> bool:
    return " " not in text.strip() and any(mark in text for mark in ("/", "@", "."))


def _address(match: re.Match[str], page_ref: tuple[str, str],
             targets: Collection[str]) -> str:
    opening, href, text, closing = match.groups()
    plain = html.unescape(text)
    if href.startswith("#"):
        if href not in targets:
            return match.group(0)
        # a cross-reference: its page number, where the layout puts the target
        prefix, suffix = (html.escape(part, quote=True) for part in page_ref)
        return (f'{match.group(0)}<span class="xref-page" data-target="{href}" '
                f'data-prefix="{prefix}" data-suffix="{suffix}"></span>')
    if href.startswith("tel:"):
        return f'{opening}<span class="address phone">{text}</span>{closing}'
    if _looks_like_address(plain):
        return f'{opening}<span class="address">{_break_address(plain)}</span>{closing}'
    if href.startswith(("http:", "https:", "mailto:")):
        # the address a reader of the printed page types in: shown by links-on-paper.css
        shown = html.unescape(href).removeprefix("mailto:")
        return (f'{match.group(0)}<span class="link-address"> (<span class="address">'
                f'{_break_address(shown)}</span>)</span>')
    return match.group(0)


def _last_word(match: re.Match[str]) -> str:
    word, closing = match.groups()
    return f'<span class="last-word">{word}</span>{closing}'


#: two note calls with nothing between them: "confusion¹²" reads as note 12
_ADJACENT_CALLS = re.compile(r'</sup>(?=<sup class="fnref">)')
#: the number of a note call or of a note (markdown.py and the notes templates write these)
_NOTE_NUMBER = re.compile(r'(<a\b[^>]*role="doc-(?:noteref|backlink)"[^>]*>)(\d+)(</a>)')


def typeset_html(fragment: str, page_ref: tuple[str, str] = ("p. ", ""),
                 targets: Collection[str] = ()) -> str:
    """The content's HTML with the break hints above; adjacent note calls separated by a
    raised comma (¹,²), as typesetters do; after a web link whose text is not its address,
    the address (`.link-address`, printed by links-on-paper.css only); after a link to
    another question, its page number (`.xref-page`: "(p. 3)", `page_ref` being the words
    before and after the number in the document's language; `targets` the fragments, such
    as `#q-ID`, that exist in the same layout)."""
    fragment = _ADJACENT_CALLS.sub('</sup><sup class="fnref-sep">,</sup>', fragment)
    fragment = _LINK.sub(lambda match: _address(match, page_ref, targets), fragment)
    return _LAST_WORD.sub(_last_word, fragment)


#: a paragraph holding nothing but an image with a title: `![a chart](chart.png "Caption")`
_TITLED_IMAGE = re.compile(r'<p>(<img\b[^>]*\btitle="([^"]*)"[^>]*>)</p>')
#: a paragraph starting "Table: " right after a table (Pandoc's caption syntax)
_TABLE_CAPTION = re.compile(r"</table>\s*<p>Table: (.*?)</p>", re.S)


def captions(fragment: str) -> str:
    """Captions: an image's title becomes its caption (`<figure>`, `<figcaption>`), and a
    paragraph "Table: ..." right after a table becomes the table's `<caption>`. The caption's
    words are the content's, as typed."""
    fragment = _TITLED_IMAGE.sub(
        lambda m: f'<figure class="figure">{m.group(1)}<figcaption>{m.group(2)}</figcaption>'
                  "</figure>", fragment)
    parts: list[str] = []
    last = 0
    for match in _TABLE_CAPTION.finditer(fragment):
        opening = fragment.rfind("<table", last, match.start())
        if opening < 0:
            continue
        end = fragment.index(">", opening) + 1
        parts.append(fragment[last:end])
        parts.append(f'<caption>{match.group(1)}</caption>')
        parts.append(fragment[end:match.start()] + "</table>")
        last = match.end()
    parts.append(fragment[last:])
    return "".join(parts)


def localise_note_numbers(fragment: str, number: Callable[[str], str]) -> str:
    """Note numbers in the language's digits (`Strings.number`): Khmer prints ១២, not 12."""
    return _NOTE_NUMBER.sub(lambda m: m.group(1) + number(m.group(2)) + m.group(3), fragment)
