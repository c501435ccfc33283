"""Stage 6: rendered parts become one PDF: pages, folios, links, outline, labels, metadata.

WeasyPrint renders each part on its own, so a link from the body to a note in the notes part
is written as an `x-briefing:` URI. Here every link, within a part or across parts, becomes an
explicit destination (page and position) in the merged file; named destinations are not kept,
so parts (and, in packs, documents) can use the same anchor names without clashing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.constants import PageLabelStyle
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    Fit,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)

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


class ReaderCache:
    """Parsed parts, and their pages made into form XObjects, keyed by the SHA-256 of the
    part's bytes: the copies of a pack share one parse of the 200-page PDF of every cover, of
    each item and of the folio, whichever `RenderedPart` object (or pickled copy of one)
    carries those bytes. Holding the digest by the identity of the bytes object saves hashing
    the same bytes again for every copy."""

    def __init__(self) -> None:
        self._digests: dict[int, tuple[bytes, bytes]] = {}
        self._readers: dict[bytes, PdfReader] = {}
        self._forms: dict[tuple[bytes, int], StreamObject] = {}

    def key(self, part: RenderedPart) -> bytes:
        found = self._digests.get(id(part.pdf))
        if found is None or found[0] is not part.pdf:
            found = (part.pdf, hashlib.sha256(part.pdf).digest())
            self._digests[id(part.pdf)] = found
        return found[1]

    def reader(self, part: RenderedPart) -> PdfReader:
        key = self.key(part)
        reader = self._readers.get(key)
        if reader is None:
            reader = self._readers[key] = PdfReader(io.BytesIO(part.pdf))
        return reader

    def form(self, part: RenderedPart, index: int) -> StreamObject:
        """Page `index` of the part as a form XObject (its resources still the reader's):
        drawn onto a page with one `Do`, where pypdf's `merge_page` would parse and rewrite
        both pages' content streams for every page of every copy."""
        key = (self.key(part), index)
        form = self._forms.get(key)
        if form is None:
            page = self.reader(part).pages[index]
            content = DecodedStreamObject()
            content.set_data(_page_content(page))
            form = content.flate_encode()
            box = page.mediabox
            form.update({
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject(FloatObject(round(float(v), 3)) for v in
                                                 (box.left, box.bottom, box.right, box.top)),
            })
            if "/Resources" in page:
                form[NameObject("/Resources")] = page.raw_get("/Resources")
            self._forms[key] = form
        return form


def _page_content(page: PageObject) -> bytes:
    contents = page.get("/Contents")
    if contents is None:
        return b""
    resolved = contents.get_object()
    streams = list(resolved) if isinstance(resolved, ArrayObject) else [resolved]
    return b"\n".join(cast(StreamObject, s.get_object()).get_data() for s in streams)


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
    stamp) selects one of its pages per numbered page, drawn onto that page as a form XObject.
    `cache` keeps the parsed parts for the next call (a pack's copies)."""
    cache = cache if cache is not None else ReaderCache()
    writer = PdfWriter()
    starts: list[int] = []
    anchors: dict[tuple[str, str], tuple[int, Anchor]] = {}
    for placed in parts:
        start = len(writer.pages)
        starts.append(start)
        reader = cache.reader(placed.part)
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

    for placed, start in zip(parts, starts, strict=True):
        for index in range(start, start + placed.page_count):
            _rewrite_links(writer, index, placed.namespace, destination)

    numbers = page_numbers(parts)
    readers = [cache.reader(placed.part) for placed in parts]
    tagged = any(is_tagged(reader) for reader in readers)
    if tagged:  # --pdf-ua: one tree for the merged file
        titles = {anchors[(e.namespace, e.anchor)][0]: e.title for e in reversed(outline)
                  if (e.namespace, e.anchor) in anchors}
        merge_structure(writer, [
            PartPages(reader, placed.page_indexes, start, placed.part.link_texts,
                      f"{placed.label}: {metadata.title}" if placed.label
                      else titles.get(start) or f"Inserted PDF ({placed.part.name})")
            for placed, start, reader in zip(parts, starts, readers, strict=True)
        ], lang=metadata.lang, title=metadata.title)
    numbered = [i for i, n in enumerate(numbers) if n is not None]
    for overlay in overlays:
        if len(numbered) != overlay.page_count:
            raise AssemblyError(f"{overlay.part.name}: one page per numbered page expected")
    _stamp(writer, numbered, overlays, cache, tagged)

    _page_labels(writer, parts, starts, numbers)
    _outline(writer, outline, anchors)
    _metadata(writer, metadata)
    writer.compress_identical_objects()
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _stamp(writer: PdfWriter, numbered: Sequence[int], overlays: Sequence[Placed],
           cache: ReaderCache, tagged: bool) -> None:
    """Draw each overlay's page over its numbered page: the page's own content is wrapped in
    q ... Q (so its graphics state cannot leak into the overlay) and followed by one `Do` per
    overlay. Each overlay page becomes one form XObject in this file, however many pages draw
    it (a recipient's stamp is one form for the whole copy). In a tagged file the `Do` is a
    pagination artifact, as the overlay's own content already is."""
    if not overlays:
        return
    forms: dict[tuple[int, int], IndirectObject] = {}
    save = _stream(writer, b"q\n")
    for position, index in enumerate(numbered):
        page = writer.pages[index]
        names: list[str] = []
        resources = page.get("/Resources")
        resources = DictionaryObject(resources.get_object() if resources is not None else {})
        xobjects = resources.get("/XObject")
        xobjects = DictionaryObject(xobjects.get_object() if xobjects is not None else {})
        for number, overlay in enumerate(overlays):
            overlay_index = overlay.page_indexes[position]
            ref = forms.get((number, overlay_index))
            if ref is None:
                form = cache.form(overlay.part, overlay_index).clone(writer)
                ref = forms[(number, overlay_index)] = writer._add_object(form)
            name = f"/BriefingOverlay{number + 1}"
            xobjects[NameObject(name)] = ref
            names.append(name)
        resources[NameObject("/XObject")] = xobjects
        page[NameObject("/Resources")] = resources
        draw = b"".join(f"q {name} Do Q\n".encode() for name in names)
        if tagged:
            draw = b"/Artifact <</Type /Pagination>> BDC\n" + draw + b"EMC\n"
        contents = page.get("/Contents")
        existing: list[PdfObject] = []
        if contents is not None:
            resolved = contents.get_object()
            existing = list(resolved) if isinstance(resolved, ArrayObject) else [contents]
        page[NameObject("/Contents")] = ArrayObject(
            [save, *existing, _stream(writer, b"Q\n" + draw)])


def _stream(writer: PdfWriter, data: bytes) -> IndirectObject:
    """A compressed content stream (the screen profile leaves compressed content alone)."""
    stream = DecodedStreamObject()
    stream.set_data(data)
    return writer._add_object(stream.flate_encode())


def _rewrite_links(writer: PdfWriter, index: int, namespace: str, destination: object) -> None:
    page = writer.pages[index]
    annots = page.get("/Annots")
    if annots is None:
        return
    for ref in annots.get_object():
        annot = ref.get_object()
        if annot.get("/Subtype") != "/Link":
            continue
        target: str | None = None
        target_namespace = namespace
        dest = annot.get("/Dest")
        action = annot.get("/A")
        if isinstance(dest, (str, bytes)):
            target = dest.decode() if isinstance(dest, bytes) else str(dest)
        elif action is not None:
            action = action.get_object()
            uri = action.get("/URI")
            if action.get("/S") == "/URI" and uri is not None and str(uri).startswith(
                f"{XREF_SCHEME}:"
            ):
                target = str(uri)[len(XREF_SCHEME) + 1:]
                if "/" in target:  # `x-briefing:namespace/anchor`: another document of a pack
                    target_namespace, target = target.split("/", 1)
            elif action.get("/S") == "/GoTo" and isinstance(action.get("/D"), (str, bytes)):
                d = action["/D"]
                target = d.decode() if isinstance(d, bytes) else str(d)
        if target is None:
            continue
        annot[NameObject("/Dest")] = destination(target_namespace, target)  # type: ignore[operator]
        if "/A" in annot:
            del annot["/A"]


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
    return moment.astimezone(dt.UTC).strftime("D:%Y%m%d%H%M%SZ")


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
