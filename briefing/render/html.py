"""Stage 4: a composed document becomes HTML: the PDF parts and the standalone web page.

Each PDF part (the cover; the body, with its notes) is its own HTML document. Links to an
anchor in another part use the `x-briefing:` scheme, which the assembler turns into a
destination in the merged PDF; inside one part, and in the web page, links are plain
`#fragment` links.
"""

from __future__ import annotations

import base64
import re
import string
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from types import TracebackType
from typing import Literal
from urllib.parse import unquote

import jinja2
from markupsafe import Markup

from briefing.errors import BriefingError, Problem, shown_path
from briefing.render.fetcher import Refused, read_project_file
from briefing.render.strings import Strings, project_strings
from briefing.render.theme import Theme
from briefing.render.typeset import captions, localise_note_numbers, typeset_html
from briefing.source.khmer import segment_html
from briefing.source.markdown import XREF_SCHEME, Composed, Linker
from briefing.source.model import FrontMatter

PT_PER_MM = 72 / 25.4

#: the side of the sheet a page is printed on, in a double-sided print: recto (right-hand,
#: odd), verso (left-hand, even)
Side = Literal["recto", "verso"]
#: how a double-sided print is made: `print` puts each start on a recto with blank pages
#: (finish/prepress.py), `booklet` imposes the pages as they are (finish/impose.py)
Duplex = Literal["print", "booklet"]


@dataclass(frozen=True)
class Paper:
    """The sheet pages are laid out on, and the stylesheets the build's purpose adds to the
    theme's (`links-on-paper.css` when links are printed: see BuildOptions.print_links).
    `duplex`: printed double-sided, so the margins are mirrored and the folios sit on the
    outer edge (see page_css); None: one-sided, symmetric margins."""

    name: str
    width_mm: float
    height_mm: float
    sheets: tuple[str, ...] = ()
    duplex: Duplex | None = None

    @property
    def css_size(self) -> str:
        return f"{self.width_mm}mm {self.height_mm}mm"

    @property
    def size_pt(self) -> tuple[float, float]:
        return self.width_mm * PT_PER_MM, self.height_mm * PT_PER_MM


PAPERS = {
    "a4": Paper("a4", 210, 297),
    "letter": Paper("letter", 215.9, 279.4),
    "a5": Paper("a5", 148, 210),
}


@dataclass(frozen=True)
class FolioPage:
    """What is printed in the margins of one page of the merged PDF."""

    width_pt: float
    height_pt: float
    header: str
    footer: str
    classification: str | None = None
    #: "Prepared for NAME, ORGANISATION", at the left of the footer (at its inner edge in a
    #: double-sided print)
    prepared: str | None = None
    #: the side of the sheet in a double-sided print (header and footer on its outer edge);
    #: None when printed one-sided
    side: Side | None = None


def owner(anchor: str) -> str:
    """Which PDF part holds an anchor: the part template and this function agree by prefix."""
    if anchor.startswith("fn-") or anchor == "notes":
        return "notes"
    if anchor == "cover":
        return "cover"
    return "body"


def part_linker(part: str, *also: str) -> Linker:
    """Links from part `part` (which also holds the anchors of the parts `also`, such as a
    body with the notes flowing after it)."""
    local = {part, *also}

    def link(anchor: str) -> str:
        return f"#{anchor}" if owner(anchor) in local else f"{XREF_SCHEME}:{anchor}"

    return link


def page_linker(anchor: str) -> str:
    return f"#{anchor}"


_PART_STYLES = {
    "cover": ("base.css", "print.css", "cover.css"),
    "body": ("base.css", "print.css", "body.css", "footnotes.css"),
    "notes": ("base.css", "print.css", "notes.css"),
    "page": ("base.css", "web.css"),
    "folio": ("base.css", "folio.css"),
}


def stylesheets(theme: Theme, part: str, extra: str = "", paper: Paper | None = None,
                also: Sequence[str] = ()) -> Markup:
    """A part's stylesheets in cascade order: the shared ones, the paper's text block right
    after print.css (`paper-a4.css`: margins, type size; a part's own sheet, such as the
    cover's, can still override it), the part's own, then the project's `custom.css`."""
    names = [*_PART_STYLES[part], *also]
    if paper is not None and "print.css" in names:
        at = names.index("print.css") + 1
        names[at:at] = [f"paper-{paper.name}.css", *paper.sheets]
    sheets = [theme.stylesheet(name, optional=name.startswith("paper-")) for name in names]
    if part == "cover":  # laid out alone, every page of it is a cover page (cover.css)
        sheets.append("html { page: cover; }")
    sheets.append(theme.stylesheet("custom.css", optional=True))
    sheets.append(theme.brand.css())  # briefing.toml's [brand], over the theme's defaults
    # Stylesheets are theme files (trusted), never content.
    return Markup("\n".join([*sheets, extra]))


def page_css(paper: Paper, first_page: int | None = None, first_side: Side | None = None
             ) -> str:
    """The part's page size; `first_page`: its first page number; `first_side`: the side of
    the sheet its first page is printed on, in a double-sided print (None: one-sided).

    Mirrored margins are the paper's (paper-*.css): `@page recto-first:right` and
    `verso-first:left` are the rectos. WeasyPrint counts a part's first page as a right-hand
    one, so a part whose first page lands on a verso (a booklet's body after a one-page cover)
    is named `verso-first`, and its `:right` pages are the versos."""
    css = f"@page {{ size: {paper.css_size}; }}"
    if first_page is not None:
        css += f"\n@page :first {{ counter-reset: page {int(first_page)}; }}"
    if first_side is not None:
        css += f"\nhtml {{ page: {first_side}-first; }}"
    return css


@contextmanager
def template_errors(template: str) -> Iterator[None]:
    """A mistake in a template (a project's own, usually) is reported at the template's file
    and line, `templates/cover.html.j2:3: 'doc' has no attribute 'titel'`, exit 1: it is
    neither the content's fault nor an internal error."""
    try:
        yield
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or template
        raise BriefingError([Problem(_shown(where), exc.lineno, f"template: {exc.message}")]) \
            from None
    except jinja2.TemplateNotFound as exc:
        raise BriefingError.at(_shown(template), None,
                               f"template not found: {exc.name}") from None
    except jinja2.TemplateError as exc:  # undefined names and attributes, sandbox refusals
        filename, line = _template_frame(exc.__traceback__, template)
        raise BriefingError([Problem(_shown(filename), line, f"template: {exc.message or exc}")]) \
            from None


def _template_frame(tb: TracebackType | None, template: str) -> tuple[str, int | None]:
    """The template file and line a runtime error happened at: Jinja2 rewrites tracebacks so
    a template's frames carry its file name and line; the innermost one is the culprit."""
    found: tuple[str, int | None] = (template, None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _shown(filename: str) -> str:
    path = Path(filename)
    return shown_path(path) if path.is_absolute() else filename


def render_theme_template(theme: Theme, template: str, **context: object) -> str:
    """One of the theme's templates rendered; its mistakes named at their line."""
    with template_errors(template):
        return theme.environment().get_template(template).render(brand=theme.brand, **context)


def render_template(
    theme: Theme, template: str, composed: Composed, linker: Linker, *,
    page_notes: bool = False, paper: bool = True, strings: Strings | None = None,
    **context: object
) -> str:
    """`page_notes`: each note goes into the text at its first call, for the foot of the page,
    and there is no notes list. `paper`: the content gets the line-breaking hints of
    render/typeset.py (the web page, which the reader's browser sets, does without).
    `strings`: the chrome's words, by default the built-in table of the document's language."""
    document = composed.document
    chrome = strings or project_strings(document.lang, theme.strings)

    # links to a question or section get its page number (in the body, where they all are)
    targets = {f"#q-{q.id}" for q in document.questions} | {
        f"#{section.id}" for section in document.sections}

    def hints(fragment: str) -> str:
        prefix, _, suffix = chrome.text("page_ref", page="\0").partition("\0")
        fragment = captions(fragment)
        typeset = typeset_html(fragment, (prefix, suffix), targets) if paper else fragment
        return localise_note_numbers(typeset, chrome.number)

    placed = {note.number: note for note in composed.notes} if page_notes else None
    answers = {qid: Markup(hints(prose.html(linker, placed)))
               for qid, prose in composed.answers.items()}
    intros = {sid: Markup(hints(prose.html(linker, placed)))
              for sid, prose in composed.intros.items()}
    notes = [] if page_notes else [
        (note, Markup(hints(note.body.html(linker)))) for note in composed.notes
    ]
    # Line-break opportunities between Khmer words: in the HTML only, never in the content.
    return segment_html(render_theme_template(
        theme, template, doc=document, answers=answers, intros=intros, notes=notes,
        link=linker, strings=chrome, **context
    ))


def cover_html(composed: Composed, theme: Theme, paper: Paper) -> str:
    return render_template(theme, "cover.html.j2", composed, part_linker("cover"),
                           css=stylesheets(theme, "cover", page_css(paper), paper))


def back_cover_html(front: FrontMatter, theme: Theme, paper: Paper) -> str:
    """A booklet's outside back cover, for a document or a pack (`front`): without it the
    booklet's last page, what a reader sees of it lying face down, was the end of the notes
    with a running header."""
    return segment_html(render_theme_template(
        theme, "back_cover.html.j2", doc=front, front=front,
        strings=project_strings(front.lang, theme.strings),
        css=stylesheets(theme, "cover", page_css(paper), paper)))


def body_html(composed: Composed, theme: Theme, paper: Paper, first_page: int,
              page_notes: bool = False, notes_follow: bool = False,
              first_side: Side | None = None, folio: FolioWords | None = None) -> str:
    """The body; `first_page` is its first printed page number, for the contents list and
    the notes' back-links; `page_notes`: the notes at the foot of the pages; `notes_follow`:
    the notes list after the body, in the same layout, so it shares the body's last page
    when there is room (a notes part always opened a page: a whole page for one line);
    `first_side`: the side of the sheet its first page is printed on (page_css); `folio`:
    the words of its running header and footer (folio_margins), laid out with its pages."""
    return _body_layout(composed, theme, paper, "body.html.j2",
                        page_css(paper, first_page, first_side), folio,
                        page_notes=page_notes, notes_follow=notes_follow)


#: the elements document.html.j2 puts on the last page of a document's cover and body
COVER_END, BODY_END = "cover-end", "body-end"


def document_html(composed: Composed, theme: Theme, paper: Paper, *, page_notes: bool = False,
                  notes_follow: bool = False, layout_side: Side | None = None,
                  folio: FolioWords | None = None, back_cover: bool = False) -> str | None:
    """A whole document as one layout (document.html.j2): the cover, the body as body_html
    has it, and with `back_cover` a booklet's outside back cover. The covers are `cover`
    pages (cover.css), which carry no header or footer and are not counted, so the body's
    pages are numbered from 1 and "of Y" is the page of `body-end` (folio_margins' `total`).
    `layout_side`: the side of the sheet WeasyPrint's right-hand pages are (page_css), which
    is the body's own side flipped when the cover before it has an odd number of pages.

    None when a project's own body template leaves no room for the cover (it does not fill
    `content` in base.html.j2): the document is then laid out in parts."""
    html = _body_layout(composed, theme, paper, "document.html.j2",
                        page_css(paper, None, layout_side), folio, total=f"url(#{BODY_END})",
                        also=("cover.css",), linked=("cover",), page_notes=page_notes,
                        notes_follow=notes_follow, back_cover=back_cover)
    if f'id="{COVER_END}"' not in html or f'id="{BODY_END}"' not in html:
        return None
    return html


def _body_layout(composed: Composed, theme: Theme, paper: Paper, template: str, page: str,
                 folio: FolioWords | None, *, page_notes: bool, notes_follow: bool,
                 total: str | None = None, also: Sequence[str] = (),
                 linked: Sequence[str] = (), back_cover: bool = False) -> str:
    """A template that lays out the body: with the body's stylesheets (and `also`), the
    `page` rules and the running header and footer of `folio`; links are local to the body,
    the notes when they follow it, and the parts `linked`; `back_cover`: for the template
    (document.html.j2 lays it out at the end). A project's own body template
    without `<main>` is rendered again with the title on every page (folio_margins)."""
    follow = ("notes",) if notes_follow else ()
    linker = part_linker("body", *linked, *follow)
    sheets = (*also, *(("notes.css",) if notes_follow else ()),
              *(("folio.css",) if folio else ()))
    html = ""
    for fixed in (False, True):
        margins = folio_margins(folio, fixed, total) if folio else ""
        html = render_template(theme, template, composed, linker, page_notes=page_notes,
                               notes_follow=notes_follow, back_cover=back_cover,
                               css=stylesheets(theme, "body", page + margins, paper,
                                               also=sheets))
        if not folio or "<main" in html:
            break
    return html


def page_html(composed: Composed, theme: Theme) -> str:
    """One self-contained web page, for the web or an e-mail body: styles inlined, and images
    too (as `data:` URLs), so it works when mailed or moved away from the project."""
    html = render_template(theme, "page.html.j2", composed, page_linker, paper=False,
                           css=stylesheets(theme, "page"))
    document = composed.document
    return inline_images(html, document.path.parent, document.project or document.path.parent)


_IMG_SRC = re.compile(r'(<img\b[^>]*?\ssrc=")([^"]*)(")', re.IGNORECASE)
_MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                ".gif": "image/gif", ".svg": "image/svg+xml", ".webp": "image/webp"}


def inline_images(html: str, base: Path, project: Path) -> str:
    """Every `<img src>` naming a file in the project becomes a `data:` URL. The files are
    read like the PDF reads them (render/fetcher.py: inside the project, regular files only);
    one that cannot be read is left as it was (check has reported it already)."""

    def inline(match: re.Match[str]) -> str:
        src = unescape(match.group(2))
        kind = _MEDIA_TYPES.get(Path(src.split("?", 1)[0]).suffix.lower())
        if kind is None or ":" in src.split("/", 1)[0]:
            return match.group(0)
        try:
            data = read_project_file(base / unquote(src), project)
        except (OSError, Refused):
            return match.group(0)
        url = f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
        return f"{match.group(1)}{url}{match.group(3)}"

    return _IMG_SRC.sub(inline, html)


def paper_of(page: FolioPage) -> str:
    """The paper a page was laid out on (`a4`, `letter`, `a5`), so its header and footer line
    up with the text block of that paper (folio.css); "other" for a supplied PDF's page."""
    for paper in PAPERS.values():
        if (abs(page.width_pt - paper.width_mm * PT_PER_MM) < 1
                and abs(page.height_pt - paper.height_mm * PT_PER_MM) < 1):
            return paper.name
    return "other"


#: the width of the text block on each paper (paper-*.css), which the running head spans
TEXT_BLOCK_MM = {"a4": 128.0, "letter": 127.9, "a5": 106.0}


def running_head(title: str, width_pt: float, height_pt: float, share: float = 0.7) -> str:
    """The title as a running head: whole when it fits the `share` of the text block the
    header gives it (70 % in folio.css; header_share), else shortened at a word boundary with
    an ellipsis, never cut inside a word. About 1.4 mm a character at the header's 8 pt."""
    block_mm = text_block_mm(width_pt, height_pt)
    limit = max(12 if share >= 0.7 else 8, round(block_mm * share / 1.4))
    if len(title) <= limit:
        return title
    words = title[:limit] if title[limit] == " " else title[:limit].rsplit(" ", 1)[0]
    words = words.rstrip(" ,;:–—-")
    return f"{words}\u2026"


def text_block_mm(width_pt: float, height_pt: float) -> float:
    """The width of the text block of the paper a page was laid out on (paper-*.css)."""
    paper = paper_of(FolioPage(width_pt, height_pt, "", ""))
    return TEXT_BLOCK_MM.get(paper, width_pt / PT_PER_MM - 44)


#: what a character of a marking takes in the header, at most on average (8 pt bold capitals,
#: tracked: "DEMONSTRATION TEXT: NOT AN APPROVED TRANSLATION" measures 1.9 mm a character)
MARKING_MM_PER_CHARACTER = 2.0


#: the least room a running head is shown in beside a marking (else only the marking is)
MIN_HEAD_MM = 20.0


def header_share(classification: str | None, width_pt: float, height_pt: float) -> float:
    """The share of the text block a document's running head takes: 70 %, or less beside a
    long marking, which keeps room for its whole length (folio_margins gives the two margin
    boxes these widths; neither wraps, and the head is shortened to its share); none when
    that leaves less than MIN_HEAD_MM: the marking is what must be read."""
    if not classification:
        return 0.7
    block = text_block_mm(width_pt, height_pt)
    room = block - len(classification) * MARKING_MM_PER_CHARACTER - 2
    return min(0.7, room / block) if room >= MIN_HEAD_MM else 0.0


#: the counter style of the running footer's page numbers, by language (strings.py's digits)
_PAGE_DIGITS = {"km": "khmer"}


def css_string(text: str) -> str:
    """`text` as a CSS string: every character but a letter, a digit or a space escaped, so
    content (a title, a marking) can never end the string or the rule it is in. (Each escape
    ends with a space, which CSS takes as part of it: a space after it stays a space.)"""
    return '"' + "".join(c if c.isalnum() or c == " " else f"\\{ord(c):06x} " for c in text) + '"'


@dataclass(frozen=True)
class FolioWords:
    """What a document's running header and footer say: `head` at the top, `continued`
    instead on the pages after the first that its contents runs over, the marking, and
    "Page X of Y" in `chrome`'s wording and digits; `duplex`: printed double-sided."""

    head: str
    continued: str
    classification: str | None
    chrome: Strings
    duplex: bool = False
    #: the share of the text block the head takes (header_share); the marking has the rest
    share: float = 0.7



def folio_margins(words: FolioWords, fixed: bool = False, total: str | None = None) -> str:
    """The words of a document's running header and footer as the body's own `@page` margin
    boxes (folio.css places and styles them). "Page X of Y" counts the body's own pages (the
    covers are unnumbered, and not counted: see `total`). Double-sided, the title and the
    number go to the outer edge: on a recto the marking and the title change places.

    The header is a string set by the contents' title and the main text, and by each entry
    of the contents (`continued`): the first set on a page is its header. (WeasyPrint counts
    a string as set on every page a piece of its box is on, so the boxes that set it either
    end on their page or should repeat.) `fixed`: `head` on every page, for a project's own
    body template without those boxes. `total`: the element whose page is the last
    numbered one (`url(#body-end)`), when the layout has unnumbered pages (document_html);
    else every page counts."""
    chrome = words.chrome
    digits = _PAGE_DIGITS.get(chrome.lang.split("-", 1)[0].lower(), "decimal")

    def count(field: str) -> str:
        if field == "pages" and total is not None:
            return f"target-counter({total}, page, {digits})"
        return f"counter({field}, {digits})"

    number = " ".join(
        part for literal, field, _, _ in string.Formatter().parse(chrome.table["page_of"])
        for part in ((css_string(literal) if literal else ""),
                     (count(field) if field in ("page", "pages") else ""))
        if part)
    marking = css_string(words.classification) if words.classification else '""'
    if words.head:
        head = (f"{css_string(words.head) if fixed else 'string(folio-head, first)'}; "
                f"width: {words.share * 100:.2f}%")
    else:  # beside a long marking: no head, the marking alone
        head = "none"

    def marking_box(outer: str) -> str:
        """The marking's box: beside the head, the rest of the block; alone, all of it,
        set against the `outer` edge, where the head would be."""
        if words.head:
            return f"{marking}; width: {100 - words.share * 100:.2f}%"
        return f"{marking}; width: 100%; text-align: {outer}"

    rules = [
        f".toc-title, main {{ string-set: folio-head {css_string(words.head)}; }}",
        f".toc li {{ string-set: folio-head {css_string(words.continued)}; }}",
        f"@page {{ @top-left {{ content: {head}; }} @top-right {{ content: "
        f"{marking_box('left' if words.duplex else 'right')}; }}"
        f" @bottom-right {{ content: {number}; }} }}",
    ]
    if words.duplex:
        rules += [
            f"@page recto-first:right, verso-first:left {{ @top-left {{ content: "
            f"{marking_box('right')}; }} @top-right {{ content: {head}; }} }}",
            "@page recto-first:left, verso-first:right { @bottom-right { content: none; }"
            f" @bottom-left {{ content: {number}; }} }}",
        ]
    return "\n" + "\n".join(rules)


def folio_html(pages: Sequence[FolioPage], theme: Theme, lang: str) -> str:
    """One page per numbered page of the merged PDF, carrying only its header and footer."""
    sizes: dict[tuple[float, float], str] = {}
    for page in pages:
        sizes.setdefault((page.width_pt, page.height_pt), f"size-{len(sizes)}")
    page_rules = "\n".join(
        f"@page {name} {{ size: {w:.3f}pt {h:.3f}pt; margin: 0; }}"
        for (w, h), name in sizes.items()
    )
    sheets = [
        (page, sizes[(page.width_pt, page.height_pt)], page.height_pt, paper_of(page))
        for page in pages
    ]
    return segment_html(render_theme_template(
        theme, "folio.html.j2", pages=sheets, lang=lang,
        css=stylesheets(theme, "folio", page_rules)
    ))
