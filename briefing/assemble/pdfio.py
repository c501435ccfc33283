"""The pypdf helper layer: opening PDF bytes, walking number and name trees, decoding links,
writing XMP. Every module that reads or writes PDFs (assemble/, finish/) uses these instead of
its own copy.

The profiles are pure functions from PDF bytes to PDF bytes. They read with `PdfReader`, write
with `PdfWriter`, and keep what makes the output reproducible: the document information and a
file identifier derived from the input's (never random, so SOURCE_DATE_EPOCH builds stay
byte-identical).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import Literal, cast

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
)

from briefing.assemble.conformance import declare_pdf_17, print_links

MM = 72 / 25.4
"""Points per millimetre."""


def open_pdf(pdf: bytes, *, strict: bool = True) -> PdfReader:
    """A reader over PDF bytes (`strict=False` for files briefing did not write)."""
    return PdfReader(io.BytesIO(pdf), strict=strict)


def read(pdf: bytes) -> PdfReader:
    """A reader over PDF bytes; a PDF without pages is refused, as no profile has work to do."""
    reader = open_pdf(pdf)
    if len(reader.pages) == 0:
        raise ValueError("the PDF has no pages")
    return reader


def to_bytes(writer: PdfWriter) -> bytes:
    """Declare PDF 1.7 and printable links (see conformance), share identical objects, drop
    unreferenced ones, and serialise."""
    declare_pdf_17(writer)
    print_links(writer)
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
    return len(open_pdf(pdf).pages)


#: how deep a tree's /Kids may nest before it is taken for a loop
MAX_TREE_DEPTH = 32


def number_tree(node: PdfObject | None, depth: int = 0) -> dict[int, PdfObject]:
    """A number tree's entries (/Nums, through /Kids): page labels, structure parent trees."""
    found: dict[int, PdfObject] = {}
    resolved = node.get_object() if node is not None else None
    if not isinstance(resolved, DictionaryObject) or depth > MAX_TREE_DEPTH:
        return found
    nums = resolved.get("/Nums")
    if nums is not None:
        items = list(cast(ArrayObject, nums.get_object()))
        for key, value in zip(items[0::2], items[1::2], strict=False):
            found[int(cast(int, key))] = value
    for kid in cast(ArrayObject, resolved.get("/Kids", ArrayObject())):
        found.update(number_tree(kid, depth + 1))
    return found


def name_tree_values(node: object, depth: int = 0) -> Iterator[PdfObject]:
    """The values of a name tree (/Names, through /Kids): embedded files, destinations."""
    if node is None or depth > MAX_TREE_DEPTH:
        return
    resolved = cast(PdfObject, node).get_object()
    if not isinstance(resolved, DictionaryObject):
        return
    pairs = cast(ArrayObject, resolved.get("/Names", ArrayObject()))
    for index in range(1, len(pairs), 2):
        yield pairs[index].get_object()
    for kid in cast(ArrayObject, resolved.get("/Kids", ArrayObject()) or ArrayObject()):
        yield from name_tree_values(kid, depth + 1)


LinkKind = Literal["uri", "dest"]


def link_target(annot: DictionaryObject) -> tuple[LinkKind, object] | None:
    """What a link annotation points at: ("uri", the URI string object) for a URI action, ("dest",
    the destination: a name or an explicit array) for /Dest or a GoTo action; None otherwise."""
    dest = annot.get("/Dest")
    if dest is not None:
        return "dest", dest
    action = annot.get("/A")
    action = action.get_object() if action is not None else None
    if not isinstance(action, DictionaryObject):
        return None
    if action.get("/S") == "/URI" and action.get("/URI") is not None:
        return "uri", action["/URI"]
    if action.get("/S") == "/GoTo" and action.get("/D") is not None:
        return "dest", action["/D"]
    return None


def metadata_stream(writer: PdfWriter, packet: bytes) -> IndirectObject:
    """An XMP packet as the catalog's /Metadata stream."""
    stream = DecodedStreamObject()
    stream.set_data(packet)
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    return writer._add_object(stream)


def page_as_form(writer: PdfWriter, page: PageObject) -> IndirectObject:
    """A page of another file as a Form XObject in `writer`: drawn with one `Do`, it costs a
    reference, where merging the page would parse and rewrite both content streams."""
    contents = page.get_contents()
    data = contents.get_data() if contents is not None else b""
    box = page.mediabox
    extra: dict[str, PdfObject] = {
        "/Type": NameObject("/XObject"),
        "/Subtype": NameObject("/Form"),
        "/BBox": ArrayObject(FloatObject(v) for v in (box.left, box.bottom, box.right, box.top)),
    }
    resources = page.get("/Resources")
    if resources is not None:
        extra["/Resources"] = cast(PdfObject, resources.get_object()).clone(writer)
    return add_stream(writer, data, extra)


def stamp(writer: PdfWriter, page: PageObject, name: str, form: IndirectObject,
          marked: bytes = b"") -> None:
    """Draw the Form XObject `form` over the page, as resource `name`; `marked` wraps the
    drawing in marked content (`/Artifact <<...>> BDC`, for a tagged file's running header)."""
    resource_dict(page_resources(page), "/XObject")[NameObject(name)] = form
    draw = b"q " + name.encode() + b" Do Q"
    append_content(writer, page, marked + b"\n" + draw + b"\nEMC\n" if marked else draw)
