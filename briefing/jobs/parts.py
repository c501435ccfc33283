"""What documents and packs lay out alike, each in one place: the paper, the metadata, a
document's outline, the running header and footer (folio), a supplied cover, the warnings of
rendering and the anchors the outline needs. A rule added here reaches both kinds of job."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from briefing import __version__
from briefing.assemble.merge import Metadata, OutlineEntry, Placed
from briefing.assemble.supplied import supplied_pdf
from briefing.assemble.tags import mark_as_artifact
from briefing.errors import BriefingError, Problem, shown_path
from briefing.finish.prepress import duplex_blanks
from briefing.options import BuildOptions
from briefing.render.html import PAPERS, FolioPage, Paper, Side, folio_html, running_head
from briefing.render.pdf import Anchor, RenderedPart, render_pdf
from briefing.render.strings import Strings, strings_for
from briefing.render.theme import Theme
from briefing.source.khmer import missing_codepoints, missing_glyphs
from briefing.source.model import Document, FrontMatter

#: the page label of a booklet's outside back cover (finish/impose.py moves it last)
BACK_COVER_LABEL = "Back cover"


def paper_for(options: BuildOptions, shown: str) -> Paper:
    """The sheet pages are laid out on; an unknown name is an error naming the file built."""
    paper = options.layout_paper
    if paper not in PAPERS:
        raise BriefingError.at(shown, None, f"unknown paper size {paper!r}")
    sheet = PAPERS[paper]
    if options.links_on_paper:
        sheet = replace(sheet, sheets=("links-on-paper.css",))
    if options.profile in ("print", "booklet"):  # double-sided: mirrored margins
        sheet = replace(sheet, duplex="print" if options.profile == "print" else "booklet")
    return sheet


def page_sides(paper: Paper, pages: int, starts: Sequence[int]) -> list[Side | None]:
    """The side of the sheet each of the merged PDF's `pages` pages is printed on: in the
    print profile after the blank pages that put each of `starts` on a recto
    (finish/prepress.py), in a booklet as the pages come (finish/impose.py: page 1 on the
    right); None for each page when printed one-sided (screen, e-mail, handout)."""
    if paper.duplex is None:
        return [None] * pages
    blanks = duplex_blanks(pages, starts) if paper.duplex == "print" else []
    return ["recto" if (index + sum(1 for b in blanks if b <= index)) % 2 == 0 else "verso"
            for index in range(pages)]


def side_at(paper: Paper, index: int, starts: Sequence[int]) -> Side | None:
    """The side of the merged PDF's page `index`, from the starts up to it (page_sides): a
    part's first page, before the parts after it are laid out."""
    return page_sides(paper, index + 1, [s for s in starts if s <= index])[index]


def source_date(content_date: dt.date | None) -> dt.datetime | None:
    """SOURCE_DATE_EPOCH when set, else the content's own date; never the clock. An epoch past
    the year 9999 (the last a PDF or XMP date can hold) is refused."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        try:
            moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        except (OverflowError, ValueError, OSError):
            moment = None
        if moment is None or moment.year > 9999:
            raise BriefingError.at("SOURCE_DATE_EPOCH", None, f"{epoch.strip()[:40]} is after "
                                   "the year 9999, the last a PDF date can hold")
        return moment
    if content_date is not None:
        return dt.datetime.combine(content_date, dt.time(0, 0), dt.UTC)
    return None


def metadata(front: FrontMatter, source: bytes, kind: Literal["document", "pack"],
             prepared_for: str | None = None, salt: bytes = b"") -> Metadata:
    """Title, author, language, date and a file /ID made from the content (never the clock);
    `salt` (a recipient's fields) makes each copy's /ID its own."""
    prefix = b"briefing " if kind == "document" else b"briefing pack "
    digest = hashlib.sha256(prefix + __version__.encode() + b"\0" + source + salt).digest()
    return Metadata(
        title=front.title, subject=front.subtitle, author=front.organisation, lang=front.lang,
        date=source_date(front.date), identifier=digest[:16], keywords=prepared_for,
    )


def question_outline(document: Document, namespace: str) -> tuple[OutlineEntry, ...]:
    """A document's sections and their questions, as outline entries in `namespace`."""
    return tuple(
        OutlineEntry(section.title, namespace, section.id, tuple(
            OutlineEntry(q.question, namespace, f"q-{q.id}") for q in section.questions))
        for section in document.sections
    )


def supplied_cover(path: Path, anchor: str) -> RenderedPart:
    """A designed cover PDF in place of the rendered cover; `anchor` marks its first page."""
    part = supplied_pdf(path, shown_path(path), name="cover")
    return replace(part, anchors={anchor: Anchor(0, 0.0, part.page_sizes[0][1])})


def folio_pages(sizes: Sequence[tuple[float, float]], numbers: Sequence[int | None],
                headers: Sequence[str], classification: str | None,
                chrome: Strings | None = None,
                sides: Sequence[Side | None] | None = None) -> list[FolioPage]:
    """What each numbered page carries in its margins: header, "Page X of Y" in the
    document's language (render/strings.py), marking; `sides` (page_sides), the side of the
    sheet of every page, puts them on its outer edge."""
    total = max((n for n in numbers if n is not None), default=0)
    chrome = chrome or strings_for("en")
    sides = sides if sides is not None else [None] * len(sizes)
    return [FolioPage(width, height, running_head(header, width, height),
                      chrome.page_of(number, total), classification, side=side)
            for (width, height), number, header, side
            in zip(sizes, numbers, headers, sides, strict=True)
            if number is not None]


#: rendered parts by a digest of what they were rendered from (see Renderer.part)
PartCache = MutableMapping[str, RenderedPart]


@dataclass
class Renderer:
    """Renders parts for one job and keeps every part's warnings: a pack's documents and a
    document alone report the same things. Images resolve against `base`, the folder of the
    file that names them."""

    project: Path
    theme: Theme
    tagged: bool = False
    #: a warm rebuild: parts whose inputs did not change are not laid out again
    reuse: bool = False
    #: (where a missing character's line is looked up: a file shown and its text, the part's
    #: file shown, the warning)
    logged: list[tuple[tuple[str, str], str, Problem]] = field(default_factory=list)
    #: with a cache (the preview's), a part whose HTML (which inlines every stylesheet) and
    #: settings are unchanged is not laid out again. The HTML only names images: whoever
    #: keeps the cache empties it when an image changes.
    cache: PartCache | None = None

    def part(self, html: str, name: str, *, base: Path, shown: str,
             document: Document | None = None, running: bool = False,
             text_from: tuple[str, str] | None = None) -> RenderedPart:
        """`running`: a header and footer overlay, an artifact in a tagged file. A character
        no font has is reported at its line in `document`, or in `text_from` (a file shown
        and its text: the recipients list, for covers); at `shown` when it is in neither."""
        key = hashlib.sha256("\0".join(
            [html, name, str(base), shown, str(self.tagged), str(running)]).encode()).hexdigest()
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None:
            part = cached
        else:
            part = render_pdf(html, name=name, base=base, project=self.project, shown=shown,
                              tagged=self.tagged and not running, reuse=self.reuse)
            if self.tagged and running:
                part = replace(part, pdf=mark_as_artifact(part.pdf))
            if self.cache is not None:
                self.cache[key] = part
        if document is not None:
            text_from = (document.shown, document.source.decode("utf-8", "replace"))
        self.logged.extend((text_from or (shown, ""), shown, w) for w in part.warnings)
        return part

    def of_document(self, html: str, name: str, document: Document) -> RenderedPart:
        """A part of a document's own text: its images resolve against its folder, and its
        warnings are reported at its lines."""
        return self.part(html, name, base=document.path.parent, shown=document.shown,
                         document=document)

    def folio(self, pages: Sequence[FolioPage], lang: str, *, base: Path, shown: str,
              name: str = "folio") -> RenderedPart:
        return self.part(folio_html(pages, self.theme, lang), name, base=base, shown=shown,
                         running=True)

    def warnings(self) -> tuple[Problem, ...]:
        """What only rendering finds (characters no font has, at their line in the document
        that has them; an image WeasyPrint could not read), each once."""
        found: list[Problem] = []
        by_part: dict[tuple[str, tuple[str, str]], list[str]] = {}
        for text_from, shown, warning in self.logged:
            by_part.setdefault((shown, text_from), []).append(warning.message)
        for (shown, (text_shown, text)), messages in by_part.items():
            for problem in missing_glyphs(text_shown, text, messages):
                found.append(problem if problem.line is not None else replace(problem, path=shown))
            others = dict.fromkeys(m for m in messages if not missing_codepoints([m]))
            found.extend(Problem(shown, None, m, "warning") for m in others)
        return tuple(dict.fromkeys(found))


def check_outline_anchors(parts: Iterable[Placed], outline: Iterable[OutlineEntry],
                          template_of: dict[str, str], theme: Theme) -> None:
    """Every outline entry needs its anchor in a part; a project template that dropped the
    ids of the built-in one is named, instead of failing in the assembler."""
    present = {(placed.namespace, name) for placed in parts for name in placed.part.anchors}
    problems: dict[str, list[str]] = {}

    def walk(entries: Iterable[OutlineEntry]) -> None:
        for entry in entries:
            if (entry.namespace, entry.anchor) not in present:
                template = template_of.get(entry.anchor.split("-", 1)[0], template_of[""])
                problems.setdefault(template, []).append(entry.anchor)
            walk(entry.children)

    walk(outline)
    if problems:
        raise BriefingError(
            Problem(template_file(theme, template), None,
                    "the outline needs elements with the ids "
                    + ", ".join(f'id="{a}"' for a in anchors[:4])
                    + (f" and {len(anchors) - 4} more" if len(anchors) > 4 else "")
                    + "; keep the ids the built-in template gives sections and questions")
            for template, anchors in problems.items())


def template_file(theme: Theme, name: str) -> str:
    """The template of that name the theme uses (a project's own first), as messages show it."""
    for folder in theme.template_dirs:
        if (folder / name).is_file():
            return shown_path(folder / name)
    return name
