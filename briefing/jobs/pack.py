"""Rendering packs: the shared parts once, then one merged PDF per copy.

A pack is laid out in reading order: cover (unnumbered), contents, then each item (a document's
body and notes, or a supplied PDF), with notes optionally gathered at the end. Page numbers run
continuously from the contents page through every item, attached PDFs included. The contents
page needs the numbers of pages laid out after it, and its own length shifts them: it is
rendered with placeholders first, then again with the real numbers.

Per-recipient copies differ only in the "Prepared for" line on the cover (and, optionally, in
the footer), so the contents, the items and the cover are rendered once, and the recipients'
lines in a few WeasyPrint runs (25 each) as stamps drawn onto the shared pages; each copy is
then only an assembly.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from markupsafe import Markup

from briefing.assemble.increment import (
    NotATemplate,
    Template,
    placeholder_part,
    stamped_copy,
    template_of,
)
from briefing.assemble.merge import (
    Metadata,
    OutlineEntry,
    Placed,
    ReaderCache,
    assemble,
    cached_reader,
    page_numbers,
)
from briefing.assemble.supplied import supplied_pdf
from briefing.errors import BriefingError, Problem, shown_path
from briefing.finish import check_budget, finish, optimise_parts
from briefing.jobs.parts import (
    BACK_COVER_LABEL,
    Renderer,
    check_outline_anchors,
    folio_pages,
    metadata,
    page_sides,
    question_outline,
    side_at,
    supplied_cover,
)
from briefing.options import BuildOptions
from briefing.output import safe_name, spreadsheet_cell, write_atomic
from briefing.render.html import (
    FolioPage,
    Paper,
    Side,
    back_cover_html,
    page_css,
    part_linker,
    render_template,
    render_theme_template,
    stylesheets,
)
from briefing.render.pdf import PX_TO_PT, RenderedPart
from briefing.render.strings import Strings, project_strings, strings_for
from briefing.render.theme import Theme, builtin_theme
from briefing.source.khmer import missing_codepoints
from briefing.source.markdown import XREF_SCHEME, Composed
from briefing.source.pack import Pack, Recipient, notes_on_page

if TYPE_CHECKING:
    from briefing.finish.pdfa import Source


@dataclass(frozen=True)
class ContentsEntry:
    title: str
    href: str
    page: str
    children: tuple[ContentsEntry, ...] = ()


@dataclass(frozen=True)
class LaidOutItem:
    namespace: str
    title: str
    #: the item's own parts in reading order (body, notes after it; or the PDF's pages)
    parts: tuple[Placed, ...]
    #: the notes part when notes are gathered at the end of the pack
    end_notes: Placed | None
    header: str
    outline: tuple[OutlineEntry, ...]
    composed: Composed | None


@dataclass(frozen=True)
class SharedPack:
    """Everything after the cover, laid out and rendered once for every copy; then every
    copy's cover and folio, each set from one WeasyPrint run. Copies are only assemblies of
    these, so a copy's bytes do not depend on which worker, or which batch, assembled it."""

    pack: Pack
    parts: tuple[Placed, ...]
    headers: tuple[str, ...]
    outline: tuple[OutlineEntry, ...]
    #: the covers of the first COVERS_PER_RUN copies (later ones: write_copies, per batch)
    covers: tuple[Placed, ...] = ()
    #: per copy of the first batch, what is stamped on its numbered pages (see render_folios)
    overlays: tuple[tuple[Placed, ...], ...] = ()
    #: the running header and footer, the same for every copy
    folio: Placed | None = None
    paper: Paper | None = None
    #: what rendering found (characters no font has, unreadable images), at their documents
    warnings: tuple[Problem, ...] = ()


#: recipients whose covers (and "Prepared for" stamps) one WeasyPrint run lays out: a fixed
#: batch by recipient index, so a copy's bytes never depend on `-j` or on who wrote it, and a
#: run's time and memory are bounded (10,000 covers in one run never finished)
COVERS_PER_RUN = 100

#: which pack template lays out the part that holds an anchor, by the anchor's prefix
PACK_TEMPLATES = {"notes": "pack_notes.html.j2", "contents": "pack_contents.html.j2",
                  "": "pack_body.html.j2"}


def pack_css(theme: Theme, part: str, paper: Paper, first_page: int | None = None,
             first_side: Side | None = None, notes: bool = False) -> Markup:
    """A part's stylesheets plus the pack's own, for the given paper, first page number and
    side of the sheet of the first page (page_css); `notes`: a body with the notes flowing
    after it."""
    extra = page_css(paper, first_page, first_side) + "\n" + theme.stylesheet("pack.css")
    return stylesheets(theme, part, extra, paper, also=("notes.css",) if notes else ())


def lay_out_pack(pack: Pack, composed: dict[int, Composed], renderer: Renderer,
                 paper: Paper, back_cover: bool = False) -> SharedPack:
    """Contents and items laid out once (its documents composed once, by the caller), then
    every copy's cover and folio. Each document's parts resolve images against its own folder
    and report warnings at its own lines, as the document alone does."""
    theme = renderer.theme
    base = pack.path.parent
    recipients: list[Recipient | None] = list(pack.recipients) or [None]
    first = recipients[:COVERS_PER_RUN]
    # the covers first: in a booklet, the side each later page lands on follows from their
    # length (every copy's cover is taken to be as long as the first one)
    laid_out = render_covers(pack, first, renderer, paper)
    covers = laid_out.covers
    cover_pages = covers[0].page_count
    contents_side = side_at(paper, cover_pages, (0, cover_pages))

    def contents(entries: Sequence[ContentsEntry]) -> RenderedPart:
        html = render_theme_template(theme, "pack_contents.html.j2", pack=pack, entries=entries,
                                     css=pack_css(theme, "body", paper,
                                                  first_side=contents_side),
                                     strings=project_strings(pack.lang, theme.strings))
        return renderer.part(html, "contents", base=base, shown=pack.shown)

    attached = {
        i: supplied_pdf(item.path, shown_path(item.path), name=f"item {i + 1}")
        for i, item in enumerate(pack.items) if item.kind == "pdf"
    }
    front = contents(_entries(pack, composed, attached, None))
    for _ in range(3):
        items = _lay_out(pack, composed, attached, renderer, paper,
                         first_page=front.page_count + 1, cover_pages=cover_pages)
        numbered = _numbers(front, items, pack.notes_at_end)
        entries = _entries(pack, composed, attached, numbered)
        final = contents(entries)
        if final.page_count == front.page_count:
            front = final
            break
        front = final  # the contents grew or shrank: lay the items out again
    else:  # pragma: no cover - would need a contents page that never settles
        raise BriefingError.at(pack.shown, None, "the contents page does not settle")

    parts: list[Placed] = [Placed(front, "contents")]
    chrome = project_strings(pack.lang, theme.strings)
    # a contents over several pages: "Contents (continued)" heads every page after its first
    headers: list[str] = [pack.title] + [chrome.text("pack_contents") + " " + chrome.text(
        "continued")] * (front.page_count - 1)
    for item in items:
        parts.extend(item.parts)
        headers.extend([item.header] * sum(p.page_count for p in item.parts))
    if pack.notes_at_end:
        for item in items:
            if item.end_notes is not None:
                parts.append(item.end_notes)
                headers.extend([item.header] * item.end_notes.page_count)
    if back_cover:  # a booklet's: finish/impose.py puts it on the booklet's last page
        back = renderer.part(back_cover_html(pack, theme, paper), "back cover", base=base,
                             shown=pack.shown)
        parts.append(Placed(back, "back", label=BACK_COVER_LABEL))
        headers.extend([""] * back.page_count)
    outline = (
        OutlineEntry(project_strings(pack.lang, theme.strings).text("pack_contents"),
                     "contents", "contents"),
        *(OutlineEntry(item.title, item.namespace, "start", item.outline) for item in items),
    )
    templates = PACK_TEMPLATES if pack.notes_at_end else {  # the notes follow each body
        **PACK_TEMPLATES, "notes": PACK_TEMPLATES[""]}
    check_outline_anchors(parts, outline, templates, theme)
    shared = SharedPack(pack, tuple(parts), tuple(headers), outline, paper=paper)
    folios = render_folios(shared, laid_out, first, renderer)
    return replace(shared, covers=tuple(covers), overlays=tuple(tuple(o) for o in folios),
                   folio=next(o for o in folios[0] if o.namespace == "folio"),
                   warnings=renderer.warnings())


def _lay_out(pack: Pack, composed: dict[int, Composed], attached: dict[int, RenderedPart],
             renderer: Renderer, paper: Paper, first_page: int,
             cover_pages: int = 1) -> list[LaidOutItem]:
    """The items from printed page `first_page` on, after a cover of `cover_pages` (every
    page after the cover is numbered, so page N is the merged PDF's page cover_pages + N - 1:
    its side of the sheet, with each item and the contents starting a right-hand page in
    print, as item_starts says)."""
    theme = renderer.theme
    items: list[LaidOutItem] = []
    current = first_page
    starts = [0, cover_pages]  # the cover, the contents

    def side(page: int) -> Side | None:
        return side_at(paper, cover_pages + page - 1, starts)

    def notes_part(doc: Composed, title: str, calls: dict[str, int], namespace: str
                   ) -> Placed:
        return Placed(renderer.of_document(render_template(
            theme, "pack_notes.html.j2", doc, part_linker("notes"), item_title=title,
            css=pack_css(theme, "notes", paper, first_side=side(current)), call_pages=calls,
        ), f"{namespace} notes", doc.document), namespace)

    #: notes gathered at the end of the pack, laid out after every item (where they go)
    at_end: list[tuple[int, Composed, str, dict[str, int]]] = []
    for index, item in enumerate(pack.items):
        namespace = f"item-{index + 1}"
        starts.append(cover_pages + current - 1)
        if item.kind == "pdf":
            part = attached[index]
            part = replace(part, anchors={**part.anchors, "start": part.anchors["page-0"]})
            items.append(LaidOutItem(namespace, item.title or "", (Placed(part, namespace),),
                                     None, "", (), None))
            current += part.page_count
            continue
        doc = composed[index]
        title = item.title or doc.document.title
        on_page = notes_on_page(pack, doc.document)
        chrome = project_strings(doc.document.lang, theme.strings)
        # the notes follow the document's body in its layout, unless the pack collects them
        follow = bool(doc.notes) and not on_page and not pack.notes_at_end
        body = renderer.of_document(render_template(
            theme, "pack_body.html.j2", doc,
            part_linker("body", "notes") if follow else part_linker("body"),
            pack=pack, item_title=title, page_notes=on_page, notes_follow=follow,
            notes_title=chrome.text("pack_notes", title=title),
            css=pack_css(theme, "body", paper, current, side(current), notes=follow),
        ), f"{namespace} body", doc.document)
        body = replace(body, anchors={**body.anchors, "start": body.anchors["doc-start"]})
        calls = {name: current + anchor.page for name, anchor in body.anchors.items()
                 if name.startswith("fnref-")}
        current += body.page_count
        has_notes = bool(doc.notes) and not on_page
        own = [Placed(body, namespace)]
        if has_notes and pack.notes_at_end:
            at_end.append((len(items), doc, title, calls))
        elif has_notes and not follow:
            own.append(notes_part(doc, title, calls, namespace))
            current += own[-1].page_count
        outline = list(question_outline(doc.document, namespace))
        if has_notes:
            outline.append(OutlineEntry(chrome.text("notes"), namespace, "notes"))
        items.append(LaidOutItem(namespace, title, tuple(own), None, doc.document.title,
                                 tuple(outline), doc))
    for at, doc, title, calls in at_end:
        notes = notes_part(doc, title, calls, items[at].namespace)
        items[at] = replace(items[at], end_notes=notes)
        current += notes.page_count
    return items


def _numbers(front: RenderedPart, items: list[LaidOutItem],
             notes_at_end: bool) -> dict[tuple[str, str], int]:
    """The printed page number of every anchor after the cover, keyed by (namespace, anchor)."""
    order: list[Placed] = [Placed(front, "contents")]
    for item in items:
        order.extend(item.parts)
    if notes_at_end:
        order.extend(item.end_notes for item in items if item.end_notes is not None)
    numbers: dict[tuple[str, str], int] = {}
    page = 1
    for placed in order:
        for name, anchor in placed.part.anchors.items():
            numbers.setdefault((placed.namespace, name), page + anchor.page)
        page += placed.page_count
    return numbers


def _entries(pack: Pack, composed: dict[int, Composed], attached: dict[int, RenderedPart],
             numbers: dict[tuple[str, str], int] | None) -> list[ContentsEntry]:
    def page(namespace: str, anchor: str) -> str:
        return str(numbers[(namespace, anchor)]) if numbers else "000"

    def href(namespace: str, anchor: str) -> str:
        return f"{XREF_SCHEME}:{namespace}/{anchor}"

    entries = []
    for index, item in enumerate(pack.items):
        namespace = f"item-{index + 1}"
        if item.kind == "pdf":
            entries.append(ContentsEntry(item.title or "", href(namespace, "start"),
                                         page(namespace, "start")))
            continue
        doc = composed[index]
        children = tuple(
            ContentsEntry(q.question, href(namespace, f"q-{q.id}"), page(namespace, f"q-{q.id}"))
            for q in doc.document.questions
        )
        entries.append(ContentsEntry(item.title or doc.document.title, href(namespace, "start"),
                                     page(namespace, "start"), children))
    return entries


#: recipients whose covers (and stamps) are laid out in one WeasyPrint run: few runs, and a
#: layout's memory that does not grow with the number of recipients
RECIPIENTS_PER_RUN = 25


def _batches(recipients: Sequence[Recipient | None]) -> list[Sequence[Recipient | None]]:
    return [recipients[i:i + RECIPIENTS_PER_RUN]
            for i in range(0, len(recipients), RECIPIENTS_PER_RUN)]


@dataclass(frozen=True)
class Covers:
    """The covers of some copies, one per copy, and what is stamped on each cover: a
    recipient's "Prepared for" line when one cover is laid out for every copy."""

    covers: list[Placed]
    stamps: list[Placed | None]


def render_covers(pack: Pack, recipients: Sequence[Recipient | None], renderer: Renderer,
                  paper: Paper) -> Covers:
    """Every copy's cover. The built-in cover is laid out once for all the copies, with
    hidden room for the longest "Prepared for" line, and each copy's own line is laid out in
    a run of small stamps (RECIPIENTS_PER_RUN a run) drawn there: a copy costs a stamp, not
    a cover. A tagged pack (the line is read out as part of the cover), a project's own
    cover template, or a cover too long for one page is laid out per copy instead (up to
    RECIPIENTS_PER_RUN a run); a supplied cover PDF is shared."""
    if pack.cover is not None:
        part = supplied_cover(pack.cover, "cover-0")
        return Covers([Placed(part, "cover", label="Cover") for _ in recipients],
                      [None] * len(recipients))
    theme = renderer.theme
    strings = project_strings(pack.lang, theme.strings)
    if (recipients != [None] and not renderer.tagged
            and all(_builtin(theme, name) for name in SHARED_COVER_TEMPLATES)):
        shared = shared_cover(pack, renderer, paper)
        if shared is not None:
            return shared_cover_stamps(pack, recipients, renderer, paper, shared)
    placed = []
    for batch in _batches(recipients):
        html = render_theme_template(theme, "pack_cover.html.j2", pack=pack, recipients=batch,
                                     css=pack_css(theme, "cover", paper), strings=strings,
                                     slot=None)
        part = renderer.part(html, "covers", base=pack.path.parent, shown=pack.shown,
                             text_from=recipients_text(pack))
        starts = [part.anchors[f"cover-{i}"].page for i in range(len(batch))]
        ends = [*starts[1:], part.page_count]
        for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
            own = replace(part, anchors={**part.anchors, "cover-0": part.anchors[f"cover-{i}"]})
            placed.append(Placed(own, "cover", label="Cover", pages=tuple(range(start, end))))
    return Covers(placed, [None] * len(placed))


#: the templates a cover shared by every copy is laid out with: a project's own may place
#: the "Prepared for" line anywhere, so its covers are laid out per copy
SHARED_COVER_TEMPLATES = ("pack_cover.html.j2", "pack_cover_stamps.html.j2", "macros.html.j2")


def _builtin(theme: Theme, name: str) -> bool:
    found = next((folder for folder in theme.template_dirs if (folder / name).is_file()), None)
    return found is not None and found.resolve() == (builtin_theme() / "templates").resolve()


def shared_cover(pack: Pack, renderer: Renderer, paper: Paper) -> RenderedPart | None:
    """The cover every copy shares, with the longest recipient's "Prepared for" line laid out
    hidden (`id="prepared-for"`); None when the cover takes more than one page."""
    theme = renderer.theme
    strings = project_strings(pack.lang, theme.strings)
    lines = [prepared_for(r, strings) for r in pack.recipients]
    slot = max(lines, key=len, default="")
    html = render_theme_template(theme, "pack_cover.html.j2", pack=pack, recipients=[None],
                                 css=pack_css(theme, "cover", paper), strings=strings,
                                 slot=slot)
    logged = len(renderer.logged)
    part = renderer.part(html, "cover", base=pack.path.parent, shown=pack.shown)
    # a character no font has in the hidden line is reported by the stamp that draws it, at
    # its recipient's line and in that recipient's batch, not by every batch's cover
    renderer.logged[logged:] = [entry for entry in renderer.logged[logged:]
                                if not missing_codepoints([entry[2].message])]
    if part.page_count != 1 or "prepared-for" not in part.anchors:
        return None
    return part


def shared_cover_stamps(pack: Pack, recipients: Sequence[Recipient | None],
                        renderer: Renderer, paper: Paper, cover: RenderedPart) -> Covers:
    """`cover` for each copy, and each copy's "Prepared for" line as a stamp placed where the
    cover's hidden one is."""
    theme = renderer.theme
    strings = project_strings(pack.lang, theme.strings)
    height = cover.page_sizes[0][1]
    top = (height - cover.anchors["prepared-for"].y) / PX_TO_PT  # CSS px from the page top
    stamps: list[Placed | None] = []
    for batch in _batches(recipients):
        html = render_theme_template(theme, "pack_cover_stamps.html.j2", pack=pack,
                                     lines=[prepared_for(r, strings) for r in batch], top=top,
                                     css=pack_css(theme, "cover", paper), strings=strings)
        part = renderer.part(html, "cover stamps", base=pack.path.parent, shown=pack.shown,
                             text_from=recipients_text(pack))
        if part.page_count != len(batch):
            raise BriefingError.at(pack.shown, None, "a \"Prepared for\" line does not fit "
                                   "on one page")
        stamps += [Placed(part, "stamp", label="Cover", pages=(i,)) for i in range(len(batch))]
    return Covers([Placed(cover, "cover", label="Cover") for _ in recipients], stamps)


def recipients_text(pack: Pack) -> tuple[str, str] | None:
    """The recipients file shown and its text: a character in a name that no font has is
    reported at its line there."""
    if pack.recipients_path is None or not pack.recipients_path.is_file():
        return None
    text = pack.recipients_path.read_bytes().decode("utf-8", "replace")
    return shown_path(pack.recipients_path), text


def cover_batch(shared: SharedPack, batch: int, renderer: Renderer
                ) -> tuple[list[Placed], list[list[Placed]]]:
    """The covers and overlays of recipients `batch * COVERS_PER_RUN` onwards (at most
    COVERS_PER_RUN of them), laid out when their copies are written: a batch's WeasyPrint run
    is bounded, and memory stays flat however many recipients there are."""
    if batch == 0:
        return list(shared.covers), [list(o) for o in shared.overlays]
    assert shared.paper is not None
    everyone: list[Recipient | None] = list(shared.pack.recipients) or [None]
    some = everyone[batch * COVERS_PER_RUN:(batch + 1) * COVERS_PER_RUN]
    laid_out = render_covers(shared.pack, some, renderer, shared.paper)
    return laid_out.covers, render_folios(shared, laid_out, some, renderer, folio=shared.folio)


def render_folios(shared: SharedPack, laid_out: Covers,
                  recipients: Sequence[Recipient | None],
                  renderer: Renderer, folio: Placed | None = None) -> list[list[Placed]]:
    """Each copy's overlays: its cover's stamp, if any (render_covers); the running header
    and footer, the same for every copy; and with `personalise_footer` a "Prepared for"
    stamp, one small page per recipient (two in a double-sided print, for the inner edge of
    a recto and of a verso), stamped on every numbered page of that recipient's copy: one run
    for the folio, one per RECIPIENTS_PER_RUN recipients for the stamps."""
    on_cover = [[stamp] if stamp is not None else [] for stamp in laid_out.stamps]
    return [[*cover, *overlays] for cover, overlays in zip(
        on_cover, _folios(shared, laid_out.covers, recipients, renderer, folio), strict=True)]


def _folios(shared: SharedPack, covers: Sequence[Placed],
            recipients: Sequence[Recipient | None],
            renderer: Renderer, folio: Placed | None = None) -> list[list[Placed]]:
    pack = shared.pack
    sizes = [size for placed in shared.parts for size in placed.page_sizes]
    cover_pages = covers[0].page_count
    numbers = page_numbers([*covers[:1], *shared.parts])[cover_pages:]
    paper = shared.paper
    assert paper is not None
    sides = page_sides(paper, cover_pages + len(sizes),
                       item_starts(covers[0], shared))[cover_pages:]
    chrome = project_strings(pack.lang, renderer.theme.strings)
    pages = folio_pages(sizes, numbers, shared.headers, pack.classification, chrome, sides)
    base, shown = pack.path.parent, pack.shown
    if folio is None:
        folio = Placed(renderer.folio(pages, pack.lang, base=base, shown=shown), "folio")
    if not pack.personalise_footer or list(recipients) == [None]:
        return [[folio] for _ in recipients]
    width, height = sizes[0]
    kinds: list[Side | None] = ["recto", "verso"] if paper.duplex else [None]
    numbered = [side for side, number in zip(sides, numbers, strict=True) if number is not None]
    overlays = []
    for batch in _batches(recipients):
        stamps = renderer.folio([FolioPage(width, height, "", "", None, prepared_for(r, chrome),
                                           side=kind)
                                 for r in batch for kind in kinds], pack.lang, name="stamps",
                                base=base, shown=shown)
        overlays += [[folio, Placed(stamps, "stamp", pages=tuple(
            len(kinds) * i + kinds.index(side) for side in numbered))]
            for i in range(len(batch))]
    return overlays


def prepared_for(recipient: Recipient | None, chrome: Strings | None = None) -> str:
    if recipient is None:
        return ""
    who = recipient.name
    if recipient.organisation:
        who = f"{recipient.name}, {recipient.organisation}"
    return (chrome or strings_for("en")).text("prepared_for", recipient=who)


@dataclass(frozen=True)
class PackCopy:
    recipient: Recipient | None
    pdf: Path
    pages: int
    size: int
    #: what laying out this copy's batch of covers found (a character no font has in a
    #: recipient's name), reported with the batch's first copy; the first batch's are the pack's
    warnings: tuple[Problem, ...] = ()


LOG = logging.getLogger("briefing")


def write_copies(shared: SharedPack, *, project: Path, out_dir: Path, options: BuildOptions,
                 indexes: Sequence[int] | None = None) -> list[PackCopy]:
    """Write the pack, or one copy per recipient plus a manifest, under `out_dir/packs/`.

    A batch build lays `shared` out once and gives each worker some recipients (`indexes`);
    the manifest is then written by the caller, once every chunk is done.
    """
    pack = shared.pack
    everyone: list[Recipient | None] = list(pack.recipients) or [None]
    chosen = list(indexes) if indexes is not None else list(range(len(everyone)))
    # the shared parts' images optimised once for every copy (by content), not per copy
    first = [shared.covers[i] for i in chosen if i < len(shared.covers)]  # the first batch's
    optimised = optimise_parts([p.part.pdf for p in (*shared.parts, *first)], options)
    if optimised:
        shared = replace(
            shared, parts=tuple(_optimised(p, optimised) for p in shared.parts),
            covers=tuple(_optimised(p, optimised) for p in shared.covers))
    targets = copy_files(pack, out_dir)
    # what every copy shares (parsed once, kept); a batch's covers and stamps are dropped
    # when the next batch is laid out
    shared_pdfs = {p.part.pdf for p in shared.parts} | set(optimised)
    shared_pdfs -= {p.part.pdf for p in first}
    cache: ReaderCache = {}
    copies: list[PackCopy] = []
    outline = (OutlineEntry("Cover", "cover", "cover-0"), *shared.outline)
    if options.pdf_a:
        from briefing.finish.pdfa import pack_sources

        sources = pack_sources(pack, project)
    else:
        sources = ()
    shared_pages = sum(placed.page_count for placed in shared.parts)
    refused: list[Problem] = []
    renderer: Renderer | None = None
    batch, covers, overlays = -1, list(shared.covers), [list(o) for o in shared.overlays]
    #: copies of a shared cover: the file finished once, each copy an update of it (False:
    #: its profile's file cannot carry updates, so copies are merged one by one)
    template: Template | Literal[False] | None = None
    reported: set[Problem] = set(shared.warnings)
    found: tuple[Problem, ...] = ()  # the current batch's warnings, not yet reported
    for index in chosen:
        if index // COVERS_PER_RUN != batch:
            from briefing.render.theme import theme_for

            batch = index // COVERS_PER_RUN
            renderer = renderer or Renderer(project, theme_for(project), tagged=options.pdf_ua)
            # the previous batch's covers and stamps are done with: memory stays flat
            for done in [key for key in cache if key not in shared_pdfs]:
                del cache[done]
            for done in [key for key in optimised if key not in shared_pdfs]:
                del optimised[done]
            renderer.logged.clear()
            covers, overlays = cover_batch(shared, batch, renderer)
            found = tuple(w for w in renderer.warnings() if w not in reported)
            reported.update(found)
            if options.strict and found:  # --strict: none of this batch's copies is written
                refused.extend(Problem(w.path, w.line, w.message + " (--strict)")
                               for w in found)
            if optimised and batch > 0:  # this batch's covers, as the first batch's above
                optimised.update(optimise_parts([c.part.pdf for c in covers], options))
                covers = [_optimised(c, optimised) for c in covers]
        if options.strict and found:
            continue
        recipient, cover = everyone[index], covers[index % COVERS_PER_RUN]
        own = overlays[index % COVERS_PER_RUN]
        shown = shown_path(targets[index])
        try:
            if template is None and _stamped(own):  # a shared cover: finished once
                template = stamped_template(shared, cover, own, outline, options, cache,
                                            sources, optimised=bool(optimised))
            if template:
                pdf = stamped(template, own, cache, copy_metadata(pack, recipient), options)
                pages = template.pages
                check_budget(pdf, options, shown)
            else:
                pdf = assemble([cover, *shared.parts], outline, copy_metadata(pack, recipient),
                               own, cache)
                pdf, pages = finish(pdf, options, shown, starts=item_starts(cover, shared),
                                    sources=sources, optimised=bool(optimised),
                                    pages=cover.page_count + shared_pages)
        except BriefingError as error:  # over the e-mail budget: every such copy is named
            refused.extend(error.problems)
            continue
        write_atomic(targets[index], pdf)
        copies.append(PackCopy(recipient, targets[index], pages, len(pdf), found))
        found = ()
    if refused:
        raise BriefingError(refused)
    if pack.recipients and indexes is None:
        write_manifest(manifest_file(pack, out_dir), copies)
    return copies


def _stamped(overlays: Sequence[Placed]) -> bool:
    """A copy whose cover is shared: its own cover line is one of its stamps."""
    return any(o.namespace == "stamp" and o.label == "Cover" for o in overlays)


def _own_pages(overlays: Sequence[Placed]) -> list[tuple[int, int]]:
    """The copy's own stamp pages, (overlay, page of its part), in the order of the
    template's slots: per stamp overlay, each page it uses, first use first."""
    return [(position, page) for position, overlay in enumerate(overlays)
            if overlay.namespace == "stamp" for page in dict.fromkeys(overlay.page_indexes)]


def stamped_template(shared: SharedPack, cover: Placed, overlays: Sequence[Placed],
                     outline: Sequence[OutlineEntry], options: BuildOptions,
                     cache: ReaderCache, sources: Sequence[Source], optimised: bool
                     ) -> Template | Literal[False]:
    """The copies' shared file, merged and finished once with placeholders where each copy's
    own stamps go (assemble/increment.py); False when the finished file cannot carry them.
    The e-mail budget is checked per copy (check_budget), not on the template."""
    own = _own_pages(overlays)
    slots = placeholder_part([overlays[o].part.page_sizes[p] for o, p in own])
    placed, first = [], 0
    for overlay in overlays:
        if overlay.namespace != "stamp":
            placed.append(overlay)
            continue
        pages = list(dict.fromkeys(overlay.page_indexes))
        placed.append(replace(overlay, part=slots, pages=tuple(
            first + pages.index(p) for p in overlay.page_indexes)))
        first += len(pages)
    pdf = assemble([cover, *shared.parts], outline, copy_metadata(shared.pack, None), placed,
                   cache)
    unbounded = replace(options, email_budget=sys.maxsize)
    finished, _ = finish(pdf, unbounded, shared.pack.shown, starts=item_starts(cover, shared),
                         sources=sources, optimised=optimised)
    try:
        return template_of(finished, len(own))
    except NotATemplate as reason:
        LOG.info("%s: copies merged one by one (%s)", shared.pack.shown, reason)
        return False


def stamped(template: Template, overlays: Sequence[Placed], cache: ReaderCache,
            info: Metadata, options: BuildOptions) -> bytes:
    """One copy: the template and an update with its own stamps, keywords and identifier."""
    pages = [cached_reader(overlays[o].part, cache).pages[p] for o, p in _own_pages(overlays)]
    values = dict(template.values)
    values.pop("/Keywords", None)
    if info.keywords:
        values["/Keywords"] = info.keywords
    xmp = None
    if options.pdf_a:
        from briefing.finish.pdfa import info_xmp

        xmp = info_xmp(values, info.identifier[:16], lang=info.lang)
    return stamped_copy(template, pages, values, info.identifier[:16], xmp)


def remove_stale_copies(pack: Pack, out_dir: Path) -> tuple[Path, ...]:
    """Copies for recipients no longer in the recipients file, removed once every copy of a
    build is written, so "send everything in the folder" never sends a stale one. Only PDFs
    directly in the pack's own folder are touched; the removed ones are returned, to be
    listed."""
    if not pack.recipients:
        return ()
    keep = {path.name for path in copy_files(pack, out_dir)}
    removed = []
    for path in sorted((out_dir / "packs" / safe_name(pack.name)).glob("*.pdf")):
        if path.name not in keep and path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(path)
            LOG.info("%s: removed, its recipient is no longer in the recipients file",
                     shown_path(path))
    return tuple(removed)


def _optimised(placed: Placed, optimised: dict[bytes, bytes]) -> Placed:
    found = optimised.get(placed.part.pdf)
    return replace(placed, part=replace(placed.part, pdf=found)) if found else placed


def copy_metadata(pack: Pack, recipient: Recipient | None) -> Metadata:
    if recipient is None:
        return metadata(pack, pack.source, "pack")
    return metadata(pack, pack.source, "pack", prepared_for=f"Prepared for {recipient.name}",
                    salt=repr(recipient.fields).encode())


def item_starts(cover: Placed, shared: SharedPack) -> list[int]:
    """The first page of the cover, the contents and each item: where duplex printing starts
    a right-hand page."""
    starts = [0]
    seen: set[str] = set()
    index = cover.page_count
    for placed in shared.parts:
        if placed.namespace not in seen:
            seen.add(placed.namespace)
            starts.append(index)
        index += placed.page_count
    return starts


def copy_files(pack: Pack, out_dir: Path) -> list[Path]:
    name = safe_name(pack.name)
    if not pack.recipients:
        return [out_dir / "packs" / f"{name}.pdf"]
    return recipient_files(out_dir / "packs" / name, pack.recipients)


def manifest_file(pack: Pack, out_dir: Path) -> Path:
    return out_dir / "packs" / safe_name(pack.name) / "manifest.csv"


def recipient_files(folder: Path, recipients: Sequence[Recipient]) -> list[Path]:
    """Safe, distinct file names from recipients' names (and organisations on a clash)."""
    taken: set[str] = set()
    files = []
    for recipient in recipients:
        stem = recipient_stem(recipient.name)
        if stem in taken and recipient.organisation:
            stem = recipient_stem(f"{recipient.name} {recipient.organisation}")
        candidate, n = stem, 2
        while candidate in taken:
            candidate, n = f"{stem}-{n}", n + 1
        taken.add(candidate)
        files.append(folder / f"{candidate}.pdf")
    return files


def recipient_stem(name: str) -> str:
    """A file name for a recipient in any script: transliterated to ASCII where a library
    can (python-slugify: `王小明` → `wang-xiao-ming`, `សុខ ចាន់` → `sukh-caan`), else
    `recipient-` and a digest of the name, stable and different for each recipient."""
    from slugify import slugify as transliterate

    stem = transliterate(name, max_length=60, word_boundary=True)
    if stem:
        return stem
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"recipient-{digest}"


def write_manifest(path: Path, copies: Sequence[PackCopy]) -> None:
    """recipient, organisation, email, file, size: ready for a mail merge."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["recipient", "organisation", "email", "file", "size"])
    for copy in copies:
        assert copy.recipient is not None
        writer.writerow([spreadsheet_cell(text) for text in (
            copy.recipient.name, copy.recipient.organisation or "",
            copy.recipient.email or "", copy.pdf.name)] + [copy.size])
    write_atomic(path, buffer.getvalue().encode("utf-8"))
