"""Laying out a document: the cover and the body (its notes after it) rendered and merged.

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
    FolioWords,
    Paper,
    back_cover_html,
    body_html,
    cover_html,
    header_share,
    running_head,
)
from briefing.render.strings import project_strings
from briefing.source.markdown import Composed

#: which template lays out the part that holds an anchor, by the anchor's prefix
DOCUMENT_TEMPLATES = {"cover": "cover.html.j2", "back-cover": "back_cover.html.j2",
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
    """Render the cover and the body (with its notes after it) and merge them into one PDF.

    Tagged (`renderer.tagged`, --pdf-ua): the running headers and footers are artifacts; the
    merged file has one structure tree (assemble/tags.py). Images resolve against the
    document's own folder. Rendering's warnings come back with the PDF.
    """
    document = composed.document
    theme = renderer.theme
    cover = (
        supplied_cover(document.cover, "cover")
        if document.cover
        else renderer.of_document(cover_html(composed, theme, sheet), "cover", document)
    )
    # the notes follow the body in its own layout: they share its last page when they fit
    follow = bool(composed.notes) and not document.notes_on_page
    starts = (0, cover.page_count)  # the cover and the body start a right-hand page in print
    chrome = project_strings(document.lang, theme.strings)
    # the running header and "Page X of Y": the body's own margin boxes, in its layout
    share = header_share(document.classification, *sheet.size_pt)
    head = running_head(document.title, *sheet.size_pt, share=share) if share else ""
    folio = FolioWords(head,
                       chrome.text("contents") + " " + chrome.text("continued"),
                       document.classification, chrome, duplex=sheet.duplex is not None,
                       share=share)
    body = renderer.of_document(body_html(
        composed, theme, sheet, first_page=1, page_notes=document.notes_on_page,
        notes_follow=follow, first_side=side_at(sheet, cover.page_count, starts),
        folio=folio), "body", document)
    parts = [Placed(cover, "doc", label="Cover"), Placed(body, "doc")]
    if back_cover:  # a booklet's: finish/impose.py puts it on the booklet's last page
        parts.append(Placed(renderer.of_document(back_cover_html(document, theme, sheet),
                                                 "back cover", document),
                            "doc", label=BACK_COVER_LABEL))

    entries = outline(composed, chrome.text("notes"))
    check_outline_anchors(parts, entries, DOCUMENT_TEMPLATES, theme)
    info = metadata(document, document.source, "document")
    pdf = remembered(renderer.reuse, [*placed_ingredients(parts), entries, info],
                     lambda: assemble(parts, entries, info))
    return Merged(pdf, sum(placed.page_count for placed in parts), starts,
                  renderer.warnings())


def outline(composed: Composed, notes_title: str = "Notes") -> list[OutlineEntry]:
    document = composed.document
    entries = [OutlineEntry("Cover", "doc", "cover"), *question_outline(document, "doc")]
    if composed.notes and not document.notes_on_page:
        entries.append(OutlineEntry(notes_title, "doc", "notes"))
    return entries
