"""Laying out a document: the cover and the body (its notes after it), in one layout where
nothing forces parts, then merged.

The stages around it (read, compose, strict, finish, write) are the same for documents and
packs: see jobs/pipeline.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from briefing.assemble.merge import OutlineEntry, Placed, assemble
from briefing.errors import Problem
from briefing.jobs.parts import (
    BACK_COVER_LABEL,
    Renderer,
    check_outline_anchors,
    metadata,
    question_outline,
    side_at,
    supplied_cover,
)
from briefing.jobs.warm import placed_ingredients, remembered
from briefing.render.html import (
    COVER_END,
    FolioWords,
    Paper,
    Side,
    back_cover_html,
    body_html,
    cover_html,
    document_html,
    header_share,
    running_head,
)
from briefing.render.strings import project_strings
from briefing.source.markdown import Composed

#: which template lays out the part that holds an anchor, by the anchor's prefix
DOCUMENT_TEMPLATES = {"cover": "cover.html.j2", "back-cover": "back_cover.html.j2",
                      "": "body.html.j2"}
#: the same in one layout, where the covers are document.html.j2's macros
ONE_LAYOUT_TEMPLATES = {"cover": "macros.html.j2", "back-cover": "macros.html.j2",
                        "": "body.html.j2"}


@dataclass(frozen=True)
class Merged:
    """A document's merged PDF; `starts` are the pages where its parts begin (cover, body)."""

    pdf: bytes
    pages: int
    starts: tuple[int, ...]
    warnings: tuple[Problem, ...] = ()


def lay_out_document(composed: Composed, renderer: Renderer, sheet: Paper,
                     back_cover: bool = False) -> Merged:
    """Lay out the cover, the body (with its notes after it) and, with `back_cover`, a
    booklet's outside back cover, and merge them into one PDF.

    One layout where nothing forces parts (document_html): the fonts are embedded once, and
    the merge only adds the outline, labels and metadata. In parts, each merged by pypdf,
    when the document supplies its own cover PDF, or the project its own cover template or
    stylesheet (written for a page of its own) or a body template without room for a cover.

    Tagged (`renderer.tagged`, --pdf-ua): the running headers and footers are artifacts; the
    merged file has one structure tree (assemble/tags.py). Images resolve against the
    document's own folder. Rendering's warnings come back with the PDF.
    """
    document = composed.document
    theme = renderer.theme
    # the notes follow the body in its own layout: they share its last page when they fit
    follow = bool(composed.notes) and not document.notes_on_page
    chrome = project_strings(document.lang, theme.strings)
    # the running header and "Page X of Y": the body's own margin boxes, in its layout
    share = header_share(document.classification, *sheet.size_pt)
    head = running_head(document.title, *sheet.size_pt, share=share) if share else ""
    folio = FolioWords(head,
                       chrome.text("contents") + " " + chrome.text("continued"),
                       document.classification, chrome, duplex=sheet.duplex is not None,
                       share=share)
    parts = None
    templates = ONE_LAYOUT_TEMPLATES
    if document.cover is None and not theme.customised("cover.html.j2", "cover.css"):
        parts = _in_one_layout(composed, renderer, sheet, follow, folio, back_cover)
    if parts is None:
        parts = _in_parts(composed, renderer, sheet, follow, folio, back_cover)
        templates = DOCUMENT_TEMPLATES
    starts = (0, parts[0].page_count)  # the cover and the body start a right-hand page in print

    entries = outline(composed, chrome.text("notes"))
    check_outline_anchors(parts, entries, templates, theme)
    info = metadata(document, document.source, "document")
    pdf = remembered(renderer.reuse, [*placed_ingredients(parts), entries, info],
                     lambda: assemble(parts, entries, info))
    return Merged(pdf, sum(placed.page_count for placed in parts), starts,
                  renderer.warnings())


def _in_one_layout(composed: Composed, renderer: Renderer, sheet: Paper, follow: bool,
                   folio: FolioWords, back_cover: bool) -> list[Placed] | None:
    """The document as one layout, placed as its cover, body and back cover pages; None when
    the project's body template has no room for the cover (document_html).

    Printed double-sided, the sides of the body's pages depend on how many pages the cover
    took: the built-in one takes one, and a cover that took more is laid out again."""
    document = composed.document
    cover_pages = 1
    while True:
        body_side = side_at(sheet, cover_pages, (0, cover_pages))
        html = document_html(composed, renderer.theme, sheet,
                             page_notes=document.notes_on_page, notes_follow=follow,
                             layout_side=_flipped(body_side, cover_pages), folio=folio,
                             back_cover=back_cover)
        if html is None:
            return None
        laid_out = renderer.of_document(html, "document", document)
        start = laid_out.anchors[COVER_END].page + 1
        if start == cover_pages or sheet.duplex is None:
            break
        cover_pages = start
    back = laid_out.anchors["back-cover"].page if back_cover else laid_out.page_count
    parts = [Placed(laid_out, "doc", label="Cover", pages=tuple(range(start))),
             Placed(laid_out, "doc", pages=tuple(range(start, back)))]
    if back_cover:  # finish/impose.py puts it on the booklet's last page
        parts.append(Placed(laid_out, "doc", label=BACK_COVER_LABEL,
                            pages=tuple(range(back, laid_out.page_count))))
    return parts


def _flipped(side: Side | None, pages_before: int) -> Side | None:
    """The side WeasyPrint's right-hand pages are on, when the body (first printed on
    `side`) comes after `pages_before` pages of the same layout."""
    if side is None or pages_before % 2 == 0:
        return side
    return "verso" if side == "recto" else "recto"


def _in_parts(composed: Composed, renderer: Renderer, sheet: Paper, follow: bool,
              folio: FolioWords, back_cover: bool) -> list[Placed]:
    """The cover, the body and the back cover each laid out alone, to be merged."""
    document = composed.document
    theme = renderer.theme
    cover = (
        supplied_cover(document.cover, "cover")
        if document.cover
        else renderer.of_document(cover_html(composed, theme, sheet), "cover", document)
    )
    starts = (0, cover.page_count)
    body = renderer.of_document(body_html(
        composed, theme, sheet, first_page=1, page_notes=document.notes_on_page,
        notes_follow=follow, first_side=side_at(sheet, cover.page_count, starts),
        folio=folio), "body", document)
    parts = [Placed(cover, "doc", label="Cover"), Placed(body, "doc")]
    if back_cover:  # a booklet's: finish/impose.py puts it on the booklet's last page
        parts.append(Placed(renderer.of_document(back_cover_html(document, theme, sheet),
                                                 "back cover", document),
                            "doc", label=BACK_COVER_LABEL))
    return parts


def outline(composed: Composed, notes_title: str = "Notes") -> list[OutlineEntry]:
    document = composed.document
    entries = [OutlineEntry("Cover", "doc", "cover"), *question_outline(document, "doc")]
    if composed.notes and not document.notes_on_page:
        entries.append(OutlineEntry(notes_title, "doc", "notes"))
    return entries
