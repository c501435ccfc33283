"""Small pypdf helpers shared by the output profiles (impose, prepress, optimise).

The profiles are pure functions from PDF bytes to PDF bytes. They read with `PdfReader`, write
with `PdfWriter`, and keep what makes the output reproducible: the document information and a
file identifier derived from the input's (never random, so SOURCE_DATE_EPOCH builds stay
byte-identical).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import cast

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
)

MM = 72 / 25.4
"""Points per millimetre."""


def read(pdf: bytes) -> PdfReader:
    """A reader over PDF bytes; a PDF without pages is refused, as no profile has work to do."""
    reader = PdfReader(io.BytesIO(pdf))
    if len(reader.pages) == 0:
        raise ValueError("the PDF has no pages")
    return reader


def to_bytes(writer: PdfWriter) -> bytes:
    """Share identical objects, drop unreferenced ones, and serialise."""
    writer.compress_identical_objects()
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def copy_document_info(reader: PdfReader, writer: PdfWriter, salt: bytes) -> None:
    """Carry title, author, dates, language over to a newly built writer, and give it an
    identifier derived from the input's, so the same input always gives the same bytes."""
    info = reader.metadata
    if info is not None:
        writer.add_metadata({str(k): v for k, v in info.items()})
    lang = reader.root_object.get("/Lang")
    if lang is not None:
        writer.root_object[NameObject("/Lang")] = cast(PdfObject, lang).clone(writer)
    original = reader.trailer.get("/ID")
    seed = bytes(cast(ByteStringObject, original[0]).original_bytes) if original else b""
    identifier = ByteStringObject(hashlib.sha256(salt + b"\0" + seed).digest()[:16])
    writer._ID = ArrayObject([identifier, identifier])


def add_stream(writer: PdfWriter, data: bytes, extra: dict[str, PdfObject] | None = None,
               compress: bool = True) -> IndirectObject:
    """Add a (Flate-compressed) stream object to the writer and return its reference."""
    stream: StreamObject = DecodedStreamObject()
    stream.set_data(data)
    if compress:
        stream = stream.flate_encode(level=9)
    for key, value in (extra or {}).items():
        stream[NameObject(key)] = value
    return writer._add_object(stream)


def append_content(writer: PdfWriter, page: PageObject, data: bytes) -> None:
    """Draw `data` on top of the page's content, with the page's own content wrapped in q/Q so
    a graphics state it leaves behind (a transformation, a clip) cannot move what we draw."""
    contents = page.get("/Contents")
    existing: list[PdfObject] = []
    if contents is not None:
        resolved = contents.get_object()
        existing = list(resolved) if isinstance(resolved, ArrayObject) else [contents]
    if existing:
        parts = [add_stream(writer, b"q\n", compress=False), *existing,
                 add_stream(writer, b"\nQ\n" + data)]
    else:
        parts = [add_stream(writer, data)]
    page[NameObject("/Contents")] = ArrayObject(parts)


def page_resources(page: PageObject) -> DictionaryObject:
    """The page's resource dictionary, made explicit on the page when it was inherited from the
    page tree, so an entry added to it applies to this page only."""
    resources = page.get("/Resources")
    if resources is not None:
        return cast(DictionaryObject, resources.get_object())
    node: PdfObject | None = page.get("/Parent")
    while node is not None:
        parent = cast(DictionaryObject, node.get_object())
        inherited = parent.get("/Resources")
        if inherited is not None:
            copy = cast(DictionaryObject, inherited.get_object()).copy()
            page[NameObject("/Resources")] = copy
            return cast(DictionaryObject, copy)
        node = parent.get("/Parent")
    fresh = DictionaryObject()
    page[NameObject("/Resources")] = fresh
    return fresh


def resource_dict(resources: DictionaryObject, kind: str) -> DictionaryObject:
    """One category (/Font, /XObject, /ColorSpace, …) of a resource dictionary, created if
    missing."""
    found = resources.get(kind)
    if found is None:
        fresh = DictionaryObject()
        resources[NameObject(kind)] = fresh
        return fresh
    return cast(DictionaryObject, found.get_object())


def xobjects(resources: DictionaryObject | None, seen: set[int] | None = None,
             ) -> Iterator[tuple[str, StreamObject, IndirectObject | None, DictionaryObject]]:
    """Every XObject reachable from a resource dictionary, forms included (each once):
    (name, stream, reference, the resources it was found in)."""
    if resources is None:
        return
    seen = set() if seen is None else seen
    table = resources.get("/XObject")
    if table is None:
        return
    table = cast(DictionaryObject, table.get_object())
    for name, ref in table.items():
        obj = ref.get_object()
        if not isinstance(obj, StreamObject):
            continue
        key = ref.idnum if isinstance(ref, IndirectObject) else id(obj)
        if key in seen:
            continue
        seen.add(key)
        yield str(name), obj, ref if isinstance(ref, IndirectObject) else None, resources
        if obj.get("/Subtype") == "/Form":
            inner = obj.get("/Resources")
            yield from xobjects(
                cast(DictionaryObject, inner.get_object()) if inner is not None else None, seen)


def page_count(pdf: bytes) -> int:
    """The /Count of the page tree's root: what a viewer shows, without walking the tree
    (a pack writes hundreds of copies, and every one is counted)."""
    reader = PdfReader(io.BytesIO(pdf))
    count = cast(DictionaryObject, reader.root_object["/Pages"].get_object()).get("/Count")
    return int(cast(int, count)) if count is not None else len(reader.pages)
