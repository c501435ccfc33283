"""A document job: cover, body and notes rendered, merged, finished and written."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from briefing import __version__
from briefing.assemble.merge import Metadata, OutlineEntry, Placed, assemble, page_numbers
from briefing.assemble.supplied import supplied_pdf
from briefing.assemble.tags import mark_as_artifact
from briefing.errors import BriefingError, Problem, shown_path
from briefing.finish import finish
from briefing.finish.pdfa import document_sources
from briefing.jobs.outputs import Output, fail_if_strict
from briefing.options import BuildOptions
from briefing.output import safe_name, write_atomic
from briefing.render.html import (
    PAPERS,
    FolioPage,
    body_html,
    cover_html,
    folio_html,
    notes_html,
    page_html,
)
from briefing.render.pdf import Anchor, RenderedPart, render_pdf
from briefing.render.strings import strings_for
from briefing.render.theme import theme_for
from briefing.source.khmer import missing_codepoints, missing_glyphs
from briefing.source.markdown import Composed
from briefing.source.model import Document
from briefing.source.prepare import prepare


@dataclass(frozen=True)
class Merged:
    """A document's merged PDF; `starts` are the pages where its parts begin (cover, body)."""

    pdf: bytes
    pages: int
    starts: tuple[int, ...]


def build_document(
    path: Path, *, project: Path, out_dir: Path, options: BuildOptions | None = None
) -> Output:
    options = options or BuildOptions()
    started = time.perf_counter()
    composed = prepare(path, project, pdf_ua=options.pdf_ua)
    fail_if_strict(options.strict, composed.warnings)
    rendering: list[Problem] = []  # what only rendering finds: missing glyphs, bad images
    merged = render_document(composed, project=project, paper=options.layout_paper,
                             warnings=rendering, pdf_ua=options.pdf_ua)
    fail_if_strict(options.strict, rendering)
    html = page_html(composed, theme_for(project)).encode("utf-8")
    name = safe_name(composed.document.name)
    pdf_path, html_path = out_dir / f"{name}.pdf", out_dir / f"{name}.html"
    sources = document_sources(composed.document, project) if options.pdf_a else ()
    pdf, pages = finish(merged.pdf, options, shown_path(pdf_path), starts=merged.starts,
                                sources=sources)
    write_atomic(pdf_path, pdf)
    write_atomic(html_path, html)
    return Output(
        source=path,
        pdf=pdf_path,
        html=html_path,
        pages=pages,
        size=len(pdf),
        seconds=time.perf_counter() - started,
        warnings=composed.warnings + tuple(rendering),
    )


def render_document(
    composed: Composed, *, project: Path, paper: str = "a4",
    warnings: list[Problem] | None = None, pdf_ua: bool = False,
) -> Merged:
    """Render cover, body and notes as separate parts and merge them into one PDF.

    With `pdf_ua` the parts are tagged and the running headers and footers are artifacts; the
    merged file has one structure tree (assemble/tags.py).

    Characters no installed font has are added to `warnings`, when given (see source/khmer.py).
    """
    document = composed.document
    if paper not in PAPERS:
        raise BriefingError.at(document.shown, None, f"unknown paper size {paper!r}")
    sheet = PAPERS[paper]
    theme = theme_for(project)
    base = document.path.parent

    logged: list[str] = []

    def render(html: str, name: str, running: bool = False) -> RenderedPart:
        part = render_pdf(html, name=name, base=base, project=project, shown=document.shown,
                          tagged=pdf_ua and not running)
        if pdf_ua and running:
            part = replace(part, pdf=mark_as_artifact(part.pdf))
        logged.extend(w.message for w in part.warnings)
        return part

    cover = (
        supplied_cover(document)
        if document.cover
        else render(cover_html(composed, theme, sheet), "cover")
    )
    body = render(body_html(composed, theme, sheet, first_page=1,
                            page_notes=document.notes_on_page), "body")
    parts = [Placed(cover, "doc", label="Cover"), Placed(body, "doc")]
    if composed.notes and not document.notes_on_page:
        parts.append(Placed(render(notes_html(composed, theme, sheet), "notes"), "doc"))

    numbers = page_numbers(parts)
    total = max((n for n in numbers if n is not None), default=0)
    sizes = [size for placed in parts for size in placed.part.page_sizes]
    folio_pages = [
        FolioPage(
            width_pt=sizes[index][0],
            height_pt=sizes[index][1],
            header=document.title,
            footer=strings_for(document.lang).page_of(number, total),
            classification=document.classification,
        )
        for index, number in enumerate(numbers)
        if number is not None
    ]
    folio = render(folio_html(folio_pages, theme, document.lang), "folio", running=True)
    pdf = assemble(parts, outline(composed), metadata(document), [Placed(folio, "folio")])
    if warnings is not None:
        source = document.source.decode("utf-8", "replace")
        warnings.extend(missing_glyphs(document.shown, source, logged))
        # Anything else WeasyPrint said (an image it could not read, say) is not dropped.
        others = dict.fromkeys(m for m in logged if not missing_codepoints([m]))
        warnings.extend(Problem(document.shown, None, m, "warning") for m in others)
    return Merged(pdf, len(numbers), (0, cover.page_count))


def outline(composed: Composed) -> list[OutlineEntry]:
    document = composed.document
    entries = [OutlineEntry("Cover", "doc", "cover")]
    for section in document.sections:
        questions = tuple(OutlineEntry(q.question, "doc", f"q-{q.id}") for q in section.questions)
        entries.append(OutlineEntry(section.title, "doc", section.id, questions))
    if composed.notes and not document.notes_on_page:
        entries.append(OutlineEntry(strings_for(document.lang).text("notes_title"), "doc", "notes"))
    return entries


def source_date(content_date: dt.date | None) -> dt.datetime | None:
    """SOURCE_DATE_EPOCH when set, else the content's own date; never the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    if content_date is not None:
        return dt.datetime.combine(content_date, dt.time(0, 0), dt.UTC)
    return None


def metadata(document: Document) -> Metadata:
    digest = hashlib.sha256(
        b"briefing " + __version__.encode() + b"\0" + document.source
    ).digest()
    return Metadata(
        title=document.title,
        subject=document.subtitle,
        author=document.organisation,
        lang=document.lang,
        date=source_date(document.date),
        identifier=digest[:16],
    )


def supplied_cover(document: Document) -> RenderedPart:
    """A designed cover PDF in place of the rendered cover."""
    assert document.cover is not None
    part = supplied_pdf(document.cover, shown_path(document.cover), name="cover")
    return replace(part, anchors={"cover": Anchor(0, 0.0, part.page_sizes[0][1])})
