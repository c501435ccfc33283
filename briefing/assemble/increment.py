"""A pack's copy as the shared file plus an incremental update that carries only what is its own.

Copies of a pack that share their cover differ in three things: the Form XObjects of the
recipient's "Prepared for" stamps (on the cover, and in the footer), the document information
(its keywords) with the XMP packet of an archival file, and the file identifier. So the file is
merged and finished once, as a template whose stamps are placeholders (`placeholder_part`:
empty forms, each with a marker of its own so no de-duplication merges two), and each copy is
that template's bytes followed by an incremental update (ISO 32000-1, 7.5.6) that replaces
each placeholder object with the recipient's form, the information dictionary and the XMP
packet, under a trailer with the copy's own /ID. A copy then costs a few small objects
instead of a merge and a finish of the whole file.

No recipient's data is in the template: a placeholder paints nothing and names no one, so the
part every copy carries unchanged holds nothing of any other copy.
"""

from __future__ import annotations

import binascii
import io
import re
import zlib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from pypdf import PageObject, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
    create_string_object,
)

from briefing.assemble.pdfio import add_stream, open_pdf
from briefing.render.pdf import RenderedPart

#: the first bytes of a placeholder's content: the slot's number follows
SLOT = b"%briefing-slot "


def placeholder_part(sizes: Sequence[tuple[float, float]], name: str = "slots") -> RenderedPart:
    """Blank pages of these sizes whose content is only a marker, `%briefing-slot K`: stamped
    like a recipient's stamp pages, each becomes a form the copies replace (slot K)."""
    writer = PdfWriter()
    for index, (width, height) in enumerate(sizes):
        page = writer.add_blank_page(width, height)
        page[NameObject("/Contents")] = add_stream(writer, SLOT + str(index).encode() + b"\n",
                                                   compress=False)
    buffer = io.BytesIO()
    writer.write(buffer)
    return RenderedPart(name=name, pdf=buffer.getvalue(), page_sizes=tuple(sizes))


@dataclass(frozen=True)
class Template:
    """A finished file whose placeholders copies replace; `slots[K]` is the object number of
    slot K's form."""

    pdf: bytes
    slots: tuple[int, ...]
    size: int
    startxref: int
    root: int
    info: int
    metadata: int | None
    pages: int
    #: its document information, as text (each copy's is this, with its own keywords)
    values: tuple[tuple[str, str], ...] = ()


class NotATemplate(ValueError):
    """The finished file cannot carry copies as updates (its placeholders were not found, or
    its cross-reference section is a stream): copies are then merged one by one."""


_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")


def template_of(pdf: bytes, slots: int) -> Template:
    """Where the placeholders of a finished file are (by their markers), and its trailer."""
    found = _STARTXREF.search(pdf[-64:])
    if found is None:
        raise NotATemplate("no startxref at the end of the file")
    startxref = int(found.group(1))
    if not pdf[startxref:startxref + 4] == b"xref":
        raise NotATemplate("the cross-reference section is a stream")
    reader = open_pdf(pdf)
    trailer = reader.trailer
    size = int(cast(int, trailer["/Size"]))
    where: dict[int, int] = {}
    seen: set[int] = set()

    def visit(resources: PdfObject | None) -> None:  # every form a page draws, nested too
        if resources is None:
            return
        forms = cast(DictionaryObject, resources.get_object()).get("/XObject")
        for ref in cast(DictionaryObject, forms.get_object()).values() if forms else ():
            if not isinstance(ref, IndirectObject) or ref.idnum in seen:
                continue
            seen.add(ref.idnum)
            obj = ref.get_object()
            if not isinstance(obj, StreamObject) or obj.get("/Subtype") != "/Form":
                continue
            data = obj.get_data()
            if data.startswith(SLOT):
                slot = int(data[len(SLOT):].split()[0])
                if slot in where:
                    raise NotATemplate(f"slot {slot} appears twice")
                where[slot] = ref.idnum
            else:
                visit(obj.get("/Resources"))

    for page in reader.pages:
        visit(page.get("/Resources"))
    if sorted(where) != list(range(slots)):
        raise NotATemplate(f"{len(where)} of {slots} placeholders found")
    root = cast(IndirectObject, trailer.raw_get("/Root"))
    info = cast(IndirectObject, trailer.raw_get("/Info"))
    metadata = reader.root_object.raw_get("/Metadata") if "/Metadata" in reader.root_object \
        else None
    return Template(pdf=pdf, slots=tuple(where[k] for k in range(slots)), size=size,
                    startxref=startxref, root=root.idnum, info=info.idnum,
                    metadata=cast(IndirectObject, metadata).idnum if metadata else None,
                    pages=len(reader.pages),
                    values=tuple((str(k), str(v)) for k, v in cast(
                        DictionaryObject, info.get_object()).items()))


def stamped_copy(template: Template, forms: Sequence[PageObject], info: Mapping[str, str],
                 identifier: bytes, xmp: bytes | None = None) -> bytes:
    """The template with slot K's form replaced by page `forms[K]` drawn as a form (its
    content and resources, copied with every object they reach), its information dictionary
    replaced by `info`, its XMP packet by `xmp` (an archival file's), and /ID `identifier`."""
    if len(forms) != len(template.slots):
        raise ValueError(f"{len(forms)} forms for {len(template.slots)} slots")
    written: dict[int, bytes] = {}
    numbers: dict[tuple[int, int, int], int] = {}
    pending: deque[tuple[int, PdfObject]] = deque()
    next_number = template.size

    def renumbered(obj: PdfObject) -> PdfObject:
        nonlocal next_number
        if isinstance(obj, IndirectObject):
            key = (id(obj.pdf), obj.idnum, obj.generation)
            if key not in numbers:
                numbers[key] = next_number
                next_number += 1
                pending.append((numbers[key], cast(PdfObject, obj.get_object())))
            return IndirectObject(numbers[key], 0, cast(PdfWriter, None))
        if isinstance(obj, StreamObject):
            raise TypeError("a stream is reached by reference only")
        if isinstance(obj, DictionaryObject):
            return DictionaryObject({NameObject(k): renumbered(v) for k, v in obj.items()})
        if isinstance(obj, ArrayObject):
            return ArrayObject(renumbered(v) for v in obj)
        return obj

    for slot, page in zip(template.slots, forms, strict=True):
        contents = page.get_contents()
        box = page.mediabox
        entries: dict[str, PdfObject] = {
            "/Type": NameObject("/XObject"), "/Subtype": NameObject("/Form"),
            "/BBox": ArrayObject(FloatObject(v) for v in (box.left, box.bottom, box.right,
                                                         box.top)),
        }
        resources = page.get("/Resources")
        if resources is not None:
            entries["/Resources"] = renumbered(cast(PdfObject, resources.get_object()))
        data = contents.get_data() if contents is not None else b""
        written[slot] = _content_stream(entries, data)
        while pending:
            number, obj = pending.popleft()
            written[number] = _object(obj, renumbered)
    written[template.info] = _serialised(DictionaryObject({
        NameObject(key): create_string_object(value) for key, value in info.items()}))
    if xmp is not None and template.metadata is not None:
        written[template.metadata] = _stream({"/Type": NameObject("/Metadata"),
                                              "/Subtype": NameObject("/XML")}, xmp)
    return _update(template, written, identifier)


def _object(obj: PdfObject, renumbered: Callable[[PdfObject], PdfObject]) -> bytes:
    if isinstance(obj, StreamObject):
        entries = {str(k): renumbered(v) for k, v in obj.items() if k != "/Length"}
        return _stream(entries, obj._data, encoded=True)
    return _serialised(renumbered(obj))


def _content_stream(entries: dict[str, PdfObject], data: bytes) -> bytes:
    """A content stream, Flate-compressed; one whose compressed data would end in a carriage
    return gets a trailing newline first (see conformance.no_stream_ends_in_cr)."""
    packed = zlib.compress(data, 9)
    if packed.endswith(b"\r"):
        packed = zlib.compress(data + b"\n", 9)
    return _stream({**entries, "/Filter": NameObject("/FlateDecode")}, packed, encoded=True)


def _stream(entries: Mapping[str, PdfObject], data: bytes, encoded: bool = False) -> bytes:
    """A stream object's bytes; `encoded`: `data` is already filtered as `entries` say. Data
    that ends in a carriage return gets an ASCIIHex layer (no_stream_ends_in_cr)."""
    entries = dict(entries)
    if encoded and data.endswith(b"\r"):
        filters = entries.get("/Filter")
        chain = (list(filters) if isinstance(filters, ArrayObject)
                 else [filters] if filters is not None else [])
        entries["/Filter"] = ArrayObject([NameObject("/ASCIIHexDecode"), *chain])
        parms = entries.get("/DecodeParms")
        if parms is not None:
            given = list(parms) if isinstance(parms, ArrayObject) else [parms]
            entries["/DecodeParms"] = ArrayObject([NullObject(), *given])
        data = binascii.hexlify(data) + b">"
    entries["/Length"] = NumberObject(len(data))
    head = _serialised(DictionaryObject({NameObject(k): v for k, v in entries.items()}))
    return head + b"\nstream\n" + data + b"\nendstream"


def _serialised(obj: PdfObject) -> bytes:
    buffer = io.BytesIO()
    obj.write_to_stream(buffer)
    return buffer.getvalue()


def _update(template: Template, written: Mapping[int, bytes], identifier: bytes) -> bytes:
    """The template's bytes, then the objects, a cross-reference section for them, and a
    trailer that points back at the template's (/Prev)."""
    out = bytearray(template.pdf)
    if not out.endswith(b"\n"):
        out += b"\n"
    offsets: dict[int, int] = {}
    for number in sorted(written):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + written[number] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n"
    numbers = sorted(offsets)
    run: list[int] = []
    for number in [*numbers, -1]:
        if run and number != run[-1] + 1:
            out += b"%d %d\n" % (run[0], len(run))
            for each in run:
                out += b"%010d 00000 n \n" % offsets[each]
            run = []
        run.append(number)
    size = max(template.size, numbers[-1] + 1)
    ident = ByteStringObject(identifier)
    trailer = DictionaryObject({
        NameObject("/Size"): NumberObject(size),
        NameObject("/Root"): IndirectObject(template.root, 0, cast(PdfWriter, None)),
        NameObject("/Info"): IndirectObject(template.info, 0, cast(PdfWriter, None)),
        NameObject("/Prev"): NumberObject(template.startxref),
        NameObject("/ID"): ArrayObject([ident, ident]),
    })
    out += b"trailer\n" + _serialised(trailer) + b"\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
