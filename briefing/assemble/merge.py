"""Stage 6: rendered parts become one PDF: pages, folios, links, outline, labels, metadata.

WeasyPrint renders each part on its own, so a link from one part to an anchor in another (the
cover, a pack's contents, notes gathered at a pack's end) is written as an `x-briefing:` URI.
Here every link, within a part or across parts, becomes an explicit destination (page and
position) in the merged file; named destinations are not kept, so parts (and, in packs,
documents) can use the same anchor names without clashing.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import cast

from pypdf import PdfReader, PdfWriter
from pypdf.constants import PageLabelStyle
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ByteStringObject,
    Destination,
    DictionaryObject,
    Fit,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    RectangleObject,
    TextStringObject,
)

from briefing.assemble.conformance import declare_pdf_17, print_links
from briefing.assemble.fonts import share_font_programs
from briefing.assemble.pdfio import link_target, open_pdf, page_as_form, stamp
from briefing.assemble.tags import PartPages, is_tagged, merge_structure
from briefing.render.pdf import Anchor, RenderedPart
from briefing.source.markdown import XREF_SCHEME


class AssemblyError(RuntimeError):
    """A link or outline entry points nowhere: a bug in a template or in briefing."""


@dataclass(frozen=True)
class Placed:
    """A part in the merged file: its anchors live in `namespace`; `label` marks unnumbered
    pages (such as "Cover"), None means the pages carry printed numbers. `pages` selects some
    pages of the part (one recipient's cover out of a batch rendered together)."""

    part: RenderedPart
    namespace: str
    label: str | None = None
    pages: tuple[int, ...] | None = None

    @property
    def page_indexes(self) -> tuple[int, ...]:
        return self.pages if self.pages is not None else tuple(range(self.part.page_count))

    @property
    def page_count(self) -> int:
        return len(self.page_indexes)

    @property
    def page_sizes(self) -> list[tuple[float, float]]:
        return [self.part.page_sizes[i] for i in self.page_indexes]


#: Parsed parts by their bytes, for callers that assemble many copies from the same parts:
#: every recipient's cover is a view of one rendered file, so it is parsed once, not per copy.
ReaderCache = dict[bytes, PdfReader]


def cached_reader(part: RenderedPart, cache: ReaderCache | None) -> PdfReader:
    """The part parsed, once per `cache`."""
    if cache is None:
        return open_pdf(part.pdf)
    found = cache.get(part.pdf)  # bytes cache their hash: a lookup costs one comparison
    if found is None:
        found = cache[part.pdf] = open_pdf(part.pdf)
    return found


@dataclass(frozen=True)
class OutlineEntry:
    title: str
    namespace: str
    anchor: str
    children: tuple[OutlineEntry, ...] = ()


@dataclass(frozen=True)
class Metadata:
    title: str
    subject: str | None
    author: str | None
    lang: str
    date: dt.datetime | None
    identifier: bytes
    keywords: str | None = None


def page_numbers(parts: Sequence[Placed]) -> list[int | None]:
    """The printed number of every page of the merged file, None where unnumbered."""
    numbers: list[int | None] = []
    current = 0
    for placed in parts:
        for _ in range(placed.page_count):
            if placed.label is None:
                current += 1
                numbers.append(current)
            else:
                numbers.append(None)
    return numbers


def assemble(
    parts: Sequence[Placed],
    outline: Sequence[OutlineEntry],
    metadata: Metadata,
    overlays: Sequence[Placed] = (),
    cache: ReaderCache | None = None,
) -> bytes:
    """Merge the parts in order. Each overlay (the running header and footer, a recipient's
    stamp) selects one of its pages per numbered page, stamped onto that page; an overlay
    with a label, one per page of the parts with that label (a copy's line on its cover).
    Each part is parsed once per call (once for all calls that share `cache`): its pages, its
    tags and its overlay pages all come from that one reader."""
    cache = {} if cache is None else cache
    writer = PdfWriter()
    starts: list[int] = []
    anchors: dict[tuple[str, str], tuple[int, Anchor]] = {}
    for placed in parts:
        start = len(writer.pages)
        starts.append(start)
        reader = cached_reader(placed.part, cache)
        merged_index = {}
        for offset, index in enumerate(placed.page_indexes):
            writer.add_page(reader.pages[index])
            merged_index[index] = start + offset
        for name, anchor in placed.part.anchors.items():
            if anchor.page in merged_index:
                anchors.setdefault((placed.namespace, name), (merged_index[anchor.page], anchor))

    def destination(namespace: str, name: str) -> ArrayObject:
        found = anchors.get((namespace, name))
        if found is None:
            raise AssemblyError(f"link to #{name} in {namespace}: no such anchor")
        index, anchor = found
        page_ref = writer.pages[index].indirect_reference
        return ArrayObject([page_ref, NameObject("/XYZ"), FloatObject(round(anchor.x, 3)),
                            FloatObject(round(anchor.y, 3)), NullObject()])

    named: dict[str, int] = {}  # each internal link's target, by name: the first one's page
    for placed, start in zip(parts, starts, strict=True):
        for index in range(start, start + placed.page_count):
            for name in _rewrite_links(writer, index, placed.namespace, destination):
                named.setdefault(name, anchors[(placed.namespace, name)][0])
    _named_destinations(writer, named)

    numbers = page_numbers(parts)
    readers = [cached_reader(placed.part, cache) for placed in parts]
    tagged = any(is_tagged(reader) for reader in readers)
    if tagged:  # --pdf-ua: one tree for the merged file
        titles = {anchors[(e.namespace, e.anchor)][0]: e.title for e in reversed(outline)
                  if (e.namespace, e.anchor) in anchors}
        views: list[PartPages] = []
        for placed, start, reader in zip(parts, starts, readers, strict=True):
            last = views[-1] if views else None
            if (last is not None and last.reader is reader and is_tagged(reader)
                    and last.start + len(last.pages) == start):
                # pages of one layout placed one after the other (a document's cover, body
                # and back cover): one tree, copied once
                views[-1] = replace(last, pages=last.pages + placed.page_indexes)
                continue
            views.append(PartPages(reader, placed.page_indexes, start, placed.part.link_texts,
                                   f"{placed.label}: {metadata.title}" if placed.label
                                   else titles.get(start) or f"Inserted PDF ({placed.part.name})"))
        merge_structure(writer, views, lang=metadata.lang, title=metadata.title)
    numbered = [i for i, n in enumerate(numbers) if n is not None]
    labels = [placed.label for placed in parts for _ in range(placed.page_count)]
    # a tagged file's running header is a pagination artifact, from its page's point of view
    marked = b"/Artifact <</Type /Pagination>> BDC" if tagged else b""
    for number, overlay in enumerate(overlays):
        overlay_reader = cached_reader(overlay.part, cache)
        # an overlay with a label goes on the pages with that label (a copy's line on its
        # cover), one without on the numbered pages
        targets = (numbered if overlay.label is None
                   else [i for i, label in enumerate(labels) if label == overlay.label])
        if len(targets) != overlay.page_count:
            raise AssemblyError(f"{overlay.part.name}: one page per "
                                f"{overlay.label or 'numbered'} page expected")
        forms: dict[int, tuple[str, IndirectObject]] = {}  # a stamp used on many pages: once
        for index, overlay_index in zip(targets, overlay.page_indexes, strict=True):
            if overlay_index not in forms:
                forms[overlay_index] = (f"/BriefingOverlay{number}p{overlay_index}",
                                        page_as_form(writer, overlay_reader.pages[overlay_index]))
            name, form = forms[overlay_index]
            stamp(writer, writer.pages[index], name, form, marked)

    _page_labels(writer, parts, starts, numbers)
    _outline(writer, outline, anchors)
    _metadata(writer, metadata)
    declare_pdf_17(writer)
    print_links(writer)
    share_font_programs(writer)
    writer.compress_identical_objects()
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _named_destinations(writer: PdfWriter, named: dict[str, int]) -> None:
    """Named destinations for the targets of a part's own links (`file.pdf#q-…` opens at a
    question), as pypdf would add them when writing, but in one sorted name tree: pypdf's
    own (`_resolve_links`) finds each page by a search through the pages and inserts each
    name into a sorted array, which grew with the square of the questions."""
    getattr(writer, "_unresolved_links", []).clear()  # every link now has its destination
    if not named:
        return
    tree = writer.get_named_dest_root()
    for name in sorted(named):
        page = writer.pages[named[name]]
        top = RectangleObject(page.mediabox).top
        action = DictionaryObject({
            NameObject("/D"): Destination(name, cast(IndirectObject, page.indirect_reference),
                                          Fit.fit_horizontally(top=top)).dest_array,
            NameObject("/S"): NameObject("/GoTo"),
        })
        tree.extend([TextStringObject(name), writer._add_object(action)])


def _rewrite_links(writer: PdfWriter, index: int, namespace: str,
                   destination: object) -> list[str]:
    """Each link of the page to an anchor becomes an explicit destination; returns the names
    of the page's links to anchors of its own part, in order."""
    page = writer.pages[index]
    annots = page.get("/Annots")
    own: list[str] = []
    if annots is None:
        return own
    for ref in annots.get_object():
        annot = ref.get_object()
        if annot.get("/Subtype") != "/Link":
            continue
        target: str | None = None
        target_namespace = namespace
        found = link_target(annot)
        if found is None:
            continue
        kind, value = found
        if kind == "dest" and isinstance(value, (str, bytes)):
            target = value.decode() if isinstance(value, bytes) else str(value)
            own.append(target)
        elif kind == "uri" and str(value).startswith(f"{XREF_SCHEME}:"):
            target = str(value)[len(XREF_SCHEME) + 1:]
            if "/" in target:  # `x-briefing:namespace/anchor`: another document of a pack
                target_namespace, target = target.split("/", 1)
        if target is None:
            continue
        annot[NameObject("/Dest")] = destination(target_namespace, target)  # type: ignore[operator]
        if "/A" in annot:
            del annot["/A"]
    return own


def _page_labels(
    writer: PdfWriter, parts: Sequence[Placed], starts: Sequence[int], numbers: list[int | None]
) -> None:
    for placed, start in zip(parts, starts, strict=True):
        count = placed.page_count
        if count == 0:
            continue
        end = start + count - 1
        if placed.label is not None:
            if count == 1:
                writer.set_page_label(start, end, prefix=placed.label)
            else:
                writer.set_page_label(
                    start, end, style=PageLabelStyle.DECIMAL, prefix=f"{placed.label} ", start=1
                )
        else:
            first = numbers[start]
            assert first is not None
            writer.set_page_label(start, end, style=PageLabelStyle.DECIMAL, start=first)


def _outline(
    writer: PdfWriter,
    entries: Sequence[OutlineEntry],
    anchors: dict[tuple[str, str], tuple[int, Anchor]],
    parent: object = None,
) -> None:
    for entry in entries:
        found = anchors.get((entry.namespace, entry.anchor))
        if found is None:
            raise AssemblyError(f"outline entry {entry.title!r}: no anchor #{entry.anchor}")
        index, anchor = found
        item = writer.add_outline_item(
            title=entry.title,
            page_number=index,
            parent=parent,  # type: ignore[arg-type]
            fit=Fit.xyz(left=round(anchor.x, 3), top=round(anchor.y, 3)),
            is_open=True,
        )
        if entry.children:
            _outline(writer, entry.children, anchors, item)


def pdf_date(moment: dt.datetime) -> str:
    """`D:YYYYMMDDHHmmSSZ` in UTC. Formatted by hand: strftime's %Y is not zero-padded on
    glibc (year 1 gave `D:10101...`, read back as 1010)."""
    utc = moment.astimezone(dt.UTC) if moment.tzinfo is not None else moment
    return (f"D:{utc.year:04d}{utc.month:02d}{utc.day:02d}{utc.hour:02d}{utc.minute:02d}"
            f"{utc.second:02d}Z")


def _metadata(writer: PdfWriter, metadata: Metadata) -> None:
    info: dict[str, str] = {
        "/Title": metadata.title,
        "/Creator": "briefing",
        "/Producer": "briefing (WeasyPrint and pypdf)",
    }
    if metadata.subject:
        info["/Subject"] = metadata.subject
    if metadata.author:
        info["/Author"] = metadata.author
    if metadata.keywords:
        info["/Keywords"] = metadata.keywords
    if metadata.date is not None:
        info["/CreationDate"] = pdf_date(metadata.date)
        info["/ModDate"] = pdf_date(metadata.date)
    writer.add_metadata(info)
    root = writer._root_object
    root[NameObject("/Lang")] = TextStringObject(metadata.lang)
    root[NameObject("/PageMode")] = NameObject("/UseOutlines")
    root[NameObject("/ViewerPreferences")] = DictionaryObject(
        {NameObject("/DisplayDocTitle"): BooleanObject(True)}
    )
    identifier = ByteStringObject(metadata.identifier[:16])
    writer._ID = ArrayObject([identifier, identifier])
