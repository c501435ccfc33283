"""Scripts other than Latin: Khmer line breaks, faithful text extraction, and missing glyphs.

Three problems of WeasyPrint (and Pango under it) with Khmer and its neighbours, solved here:

* Khmer is written without spaces between words and Pango has no Khmer dictionary, so a long
  Khmer paragraph only breaks at the rare spaces and overflows the page. `segment_html` puts a
  `<wbr>` (an invisible break opportunity) between the words that ICU's dictionary line breaker
  finds. It works on the finished HTML, so it covers every template and never touches the stored
  content; `<wbr>` (rather than U+200B) adds no character to the text at all.
* WeasyPrint maps each glyph to one piece of text (the PDF's ToUnicode table), which cannot
  describe scripts whose glyphs are reordered or reused within syllables: copied or extracted
  Khmer (and Devanagari, Thai, Myanmar…) comes out garbled. `install_actual_text` makes each
  such run of text carry its exact source in a marked-content `/ActualText`, which is what the
  PDF format provides for this; PDF readers and `pdftotext` then return the source text.
* A character that no installed font has is drawn as an empty box, and WeasyPrint only logs it.
  `missing_glyphs` turns those log lines into a warning that names the document, the line, the
  characters and the kind of font that would print them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import Any

from briefing.errors import Problem

#: Khmer and Khmer Symbols: the scripts segmented by dictionary here
_KHMER = "\u1780-\u17ff\u19e0-\u19ff"
#: A run of Khmer, possibly with zero-width (non-)joiners or spaces typed inside words
KHMER_RUN = re.compile(f"[{_KHMER}](?:[{_KHMER}\u200b-\u200d]*[{_KHMER}])?")
_ZERO_WIDTH = "\u200b\u200c\u200d"

#: LTR scripts whose shaping reorders or merges glyphs, so ToUnicode alone loses the text:
#: Indic (Devanagari to Sinhala), Thai, Lao, Tibetan, Myanmar, Khmer, Tai Tham, Balinese,
#: Javanese and the Myanmar extensions.
_COMPLEX = re.compile(
    "[\u0900-\u0dff\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff"
    "\u1a20-\u1aaf\u1b00-\u1b7f\ua980-\ua9ff\uaa60-\uaa7f]"
)
#: Right-to-left text is left alone: PDF readers reorder it themselves, and an /ActualText
#: would be reordered a second time.
_RTL = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\U00010800-\U00010fff\U0001e800-\U0001efff]"
)


def has_khmer(text: str) -> bool:
    return KHMER_RUN.search(text) is not None


@cache
def _line_breaker() -> type[Any]:
    from icu4py.breakers import LineBreaker

    return LineBreaker


def break_points(run: str) -> list[int]:
    """Offsets inside a run of Khmer where a line may break: ICU's dictionary word boundaries.

    The run holds only characters of the Basic Multilingual Plane, so ICU's UTF-16 offsets are
    also Python string offsets. No break is added next to a zero-width character the author
    typed: a U+200B already is a break opportunity and a joiner must keep its neighbours together.
    """
    points = []
    for start, _end in _line_breaker()(run, "km").segments():
        if 0 < start < len(run) and run[start - 1] not in _ZERO_WIDTH \
                and run[start] not in _ZERO_WIDTH:
            points.append(start)
    return points


def segment(text: str) -> list[str]:
    """The text cut at every added break opportunity; joined together they give the text back."""
    pieces: list[str] = []
    last = 0
    for match in KHMER_RUN.finditer(text):
        for point in break_points(match.group()):
            pieces.append(text[last:match.start() + point])
            last = match.start() + point
    pieces.append(text[last:])
    return pieces


#: Elements whose content is raw text (or RCDATA) in HTML, where a `<wbr>` would show as text.
_RAW = re.compile(r"<(title|style|script|textarea)\b", re.IGNORECASE)
_TAG = re.compile(r"(<[^>]*>)")


def segment_html(html: str) -> str:
    """Add `<wbr>` between Khmer words in the text of an HTML document made by the templates.

    Text nodes are what lies between tags: the templates and the Markdown renderer escape every
    `<` in content, so splitting at tags is exact. Runs of Khmer contain no `&`, so no character
    reference is ever cut. Attributes are inside tags and are left alone, as is the content of
    `<title>`, `<style>`, `<script>` and `<textarea>`.
    """
    if not has_khmer(html):
        return html
    out: list[str] = []
    closing: str | None = None
    for piece in _TAG.split(html):
        if piece.startswith("<"):
            if closing is None:
                raw = _RAW.match(piece)
                if raw:
                    closing = f"</{raw.group(1).lower()}"
            elif piece.lower().startswith(closing):
                closing = None
            out.append(piece)
        elif closing is None and has_khmer(piece):
            out.append("<wbr>".join(segment(piece)))
        else:
            out.append(piece)
    return "".join(out)


ZWSP = "\u200b"


def zero_width_breaks(html: str) -> str:
    """The HTML given to the PDF renderer, with each `<wbr>` as a U+200B (ZERO WIDTH SPACE).

    Both are the same break opportunity, but WeasyPrint makes each `<wbr>` a box of its own:
    every Khmer word became a separate piece of marked content, its links zero-width link
    annotations (empty Link elements, outloud LNK-003) and its gaps empty Span elements, and
    PDFium, which orders a line's text objects by position, then drew each word's /ActualText
    more than once. With U+200B a line of text is one box; Pango draws no glyph for it and the
    /ActualText leaves it out, so no reader sees it. The HTML output keeps its `<wbr>`.
    """
    return html.replace("<wbr>", ZWSP)


def needs_actual_text(text: str) -> bool:
    """Whether a line of text must carry /ActualText to be extracted as it was written."""
    return _COMPLEX.search(text) is not None and _RTL.search(text) is None


# WeasyPrint's own words when Pango found no font for a character (weasyprint/draw/text.py).
_NOTDEF = re.compile(r"\.notdef glyph rendered .*\(U\+([0-9A-Fa-f]{4,6})\)")

#: Words of Unicode character names that follow the name of the script.
_NAME_STOPS = frozenset((
    "LETTER", "SYLLABLE", "SIGN", "HIEROGLYPH", "IDEOGRAM", "IDEOGRAPH", "DIGIT", "NUMBER",
    "NUMERAL", "CHARACTER", "SYMBOL", "VOWEL", "CONSONANT", "MARK", "PUNCTUATION", "LIGATURE",
    "FRACTION", "WORD", "LOGOGRAM", "DETERMINATIVE", "TONE", "SMALL", "CAPITAL", "COMBINING",
    "SUBJOINED", "INDEPENDENT", "DEPENDENT", "QUANTITY", "SEPARATOR",
))


def missing_codepoints(messages: Iterable[str]) -> list[str]:
    """The characters WeasyPrint drew as .notdef, from its log messages, first seen first."""
    found: dict[str, None] = {}
    for message in messages:
        match = _NOTDEF.search(message)
        if match:
            found.setdefault(chr(int(match.group(1), 16)), None)
    return list(found)


def script_of(char: str) -> str | None:
    """A readable script name taken from the character's Unicode name (`LINEAR B SYLLABLE …`)."""
    try:
        name = unicodedata.name(char)
    except ValueError:
        return None
    words = re.split(r"[ -]", name)
    if words[0] == "CJK":
        return "CJK"
    for index, word in enumerate(words):
        if word in _NAME_STOPS and index > 0:
            script = " ".join(w.capitalize() if len(w) > 1 else w for w in words[:index])
            return f"{script} Hieroglyphs" if word == "HIEROGLYPH" else script
    return None


def describe(char: str) -> str:
    code = f"U+{ord(char):04X}"
    category = unicodedata.category(char)
    if category == "Co":
        return f"{code} {char!r} (a private-use character)"
    if category == "Cn":
        return f"{code} (not an assigned character)"
    return f"{code} {char!r} ({unicodedata.name(char, 'unnamed')})"


def _font_advice(script: str | None) -> str:
    if script is None:
        return ("a font that has them (private-use and unnamed characters only print with the "
                "font they were made for: add it with @font-face in styles/custom.css)")
    if script == "CJK":
        return "a font that covers CJK (such as Noto Sans CJK, Debian's fonts-noto-cjk)"
    return f"a font that covers {script} (such as Noto Sans {script})"


def missing_glyphs(
    shown: str, source: str, messages: Iterable[str], *, limit: int = 8
) -> list[Problem]:
    """One warning per script whose characters printed as boxes, at the line of the first one.

    `source` is the document's YAML text, used only to find that line; characters that are not
    in it (they came from a template) are reported without a line.
    """
    by_script: dict[str | None, list[str]] = {}
    for char in missing_codepoints(messages):
        by_script.setdefault(script_of(char), []).append(char)
    problems = []
    for script, chars in by_script.items():
        lines = [_line_of(source, c) for c in chars]
        known = [n for n in lines if n is not None]
        listed = ", ".join(describe(c) for c in chars[:limit])
        more = f" and {len(chars) - limit} more" if len(chars) > limit else ""
        problems.append(Problem(
            shown, min(known) if known else None,
            f"no installed font has {listed}{more}: they would print as empty boxes; "
            f"install {_font_advice(script)}",
            "warning",
        ))
    return problems


def _line_of(source: str, char: str) -> int | None:
    index = source.find(char)
    return source.count("\n", 0, index) + 1 if index >= 0 else None
