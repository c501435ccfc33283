"""Archival PDFs (PDF/A-3b) that carry their own source, and getting the source back out.

`archival()` is the last step of a `--pdf-a` build, after the output profile, from the final
PDF's bytes to the bytes written: pypdf's merge (and the profiles' page work) keep no
catalog-level PDF/A pieces, so they are all added here, once, to the file that is written.

- XMP metadata built from the document information dictionary the assembler wrote, so the
  two always agree (title, author, subject, keywords, creator, producer and dates), with the
  PDF/A identification (part 3, conformance B) and a document ID taken from the file's /ID;
- an sRGB output intent (/GTS_PDFA1) with the ICC profile WeasyPrint ships for its own PDF/A
  output (Pillow's built-in sRGB if that file is missing);
- the sources as PDF/A-3 associated files (/AF on the catalog, /AFRelationship /Source,
  listed in /Names /EmbeddedFiles), named by their path in the project;
- what PDF/A forbids or requires of the content, fixed where that changes nothing a reader
  sees (annotations marked printable, image interpolation off, scripts and automatic actions
  removed), refused with a message where it cannot be fixed (a font that is not embedded,
  device CMYK colour, which an sRGB file cannot carry).

Everything is derived from the input bytes and the sources: the same input gives the same
bytes. `embedded_sources()` and `write_sources()` are `briefing extract`: the files come back
byte for byte, and a crafted PDF cannot make them land outside the chosen folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import io
import logging
import re
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, cast
from xml.sax.saxutils import escape

from briefing.errors import BriefingError, Problem
from briefing.output import MAX_NAME_BYTES
from briefing.source.load import MAX_SOURCE_BYTES

if TYPE_CHECKING:
    from pypdf import PdfWriter
    from pypdf.generic import PdfObject

    from briefing.source.model import Document
    from briefing.source.pack import Pack

NO_DATE = "D:19700101000000Z"
"""The date of a file whose content has no `date` and whose build has no SOURCE_DATE_EPOCH:
PDF/A wants dates (the embedded sources' /ModDate above all), so it is the same fixed moment
everywhere (what SOURCE_DATE_EPOCH=0 gives), never the clock."""

SRGB = "sRGB IEC61966-2.1"
MIME_TYPES = {".yaml": "application/yaml", ".yml": "application/yaml", ".csv": "text/csv",
              ".pdf": "application/pdf"}
#: actions PDF/A-2 and -3 allow; any other (JavaScript, Launch, forms, multimedia) is removed
ALLOWED_ACTIONS = frozenset({"/GoTo", "/GoToR", "/GoToE", "/Thread", "/URI", "/Named",
                             "/SubmitForm"})
STANDARD_BLEND_MODES = frozenset({
    "/Normal", "/Compatible", "/Multiply", "/Screen", "/Overlay", "/Darken", "/Lighten",
    "/ColorDodge", "/ColorBurn", "/HardLight", "/SoftLight", "/Difference", "/Exclusion",
    "/Hue", "/Saturation", "/Color", "/Luminosity"})
#: font types whose program must be embedded (Type 3 fonts are drawn by the file itself)
EMBEDDABLE_FONTS = frozenset({"/Type1", "/MMType1", "/TrueType", "/CIDFontType0",
                              "/CIDFontType2"})
PRINT_FLAG = 4
HIDING_FLAGS = 1 | 2 | 32 | 256  # Invisible, Hidden, NoView, ToggleNoView


@dataclass(frozen=True)
class Source:
    """A file embedded in an archival PDF: its path in the project (with `/`) and its bytes."""

    name: str
    data: bytes

    @property
    def mime_type(self) -> str:
        return MIME_TYPES.get(PurePosixPath(self.name).suffix.lower(), "application/octet-stream")


def source_name(path: Path, project: Path) -> str:
    """The project-relative name a source is embedded under, e.g. `content/cambodia-faq.yaml`."""
    try:
        return path.resolve().relative_to(project.resolve()).as_posix()
    except ValueError:
        return path.name


def document_sources(document: Document, project: Path) -> tuple[Source, ...]:
    """A document's own YAML, exactly as it was read."""
    return (Source(source_name(document.path, project), document.source),)


def pack_sources(pack: Pack, project: Path) -> tuple[Source, ...]:
    """The pack file, then each document it lists (once each), exactly as read.

    The recipients list is left out on purpose: every recipient's copy would otherwise carry
    every other recipient's name and e-mail address. Attached and cover PDFs are left out too:
    their pages are in the file already.
    """
    from briefing.source.load import load

    sources = [Source(source_name(pack.path, project), pack.source)]
    seen = {sources[0].name}
    for item in pack.items:
        if item.kind != "document":
            continue
        name = source_name(item.path, project)
        if name not in seen:
            seen.add(name)
            sources.append(Source(name, load(item.path, name, project=project).source))
    return tuple(sources)


# --- making the archival file ---------------------------------------------------------------

def archival(pdf: bytes, *, sources: Sequence[Source], shown: str) -> bytes:
    """The PDF/A-3b form of a finished PDF, carrying `sources`; `shown` names it in errors."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject, NameObject

    from briefing.assemble.conformance import no_stream_ends_in_cr
    from briefing.assemble.pdfio import metadata_stream, open_pdf

    reader = open_pdf(pdf)
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = b"%PDF-1.7"  # PDF/A-3 is ISO 32000-1, PDF 1.7
    original = reader.trailer.get("/ID")
    identifier = (bytes(cast(ByteStringObject, original[0]).original_bytes) if original
                  else hashlib.sha256(pdf).digest()[:16])
    writer._ID = ArrayObject([ByteStringObject(identifier), ByteStringObject(identifier)])

    problems = _clean_objects(writer)
    if problems:
        raise BriefingError.at(shown, None, "cannot be made an archival PDF (--pdf-a): "
                               + "; ".join(sorted(set(problems))))
    info = _dated_info(writer)
    root = writer.root_object
    if "/OpenAction" in root:
        del root[NameObject("/OpenAction")]
    names = root.get("/Names")
    if names is not None and "/JavaScript" in names.get_object():
        del names.get_object()[NameObject("/JavaScript")]
    ua_part = _pdfua_part(root)
    root[NameObject("/OutputIntents")] = ArrayObject([_output_intent(writer)])
    _embed(writer, sources, info.get("/ModDate", NO_DATE))
    # uncompressed, as PDF/A-1 required and readers of archives still expect
    root[NameObject("/Metadata")] = metadata_stream(
        writer, _xmp(info, identifier, lang=_text(root.get("/Lang")), ua_part=ua_part))
    no_stream_ends_in_cr(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _text(value: object) -> str | None:
    if value is None:
        return None
    value = cast("PdfObject", value).get_object()
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _dated_info(writer: PdfWriter) -> dict[str, str]:
    """The information dictionary as text, with both dates set (one from the other, or
    NO_DATE): the XMP is written from exactly these values."""
    info = writer._info
    values = {str(k): _text(v) or "" for k, v in (info or {}).items()}
    created = values.get("/CreationDate") or values.get("/ModDate") or NO_DATE
    values["/CreationDate"] = created
    values["/ModDate"] = values.get("/ModDate") or created
    writer.add_metadata({"/CreationDate": values["/CreationDate"],
                         "/ModDate": values["/ModDate"]})
    return values


def _walk(obj: PdfObject) -> Iterator[PdfObject]:
    """Every dictionary, array and stream inside one indirect object, not across references."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    if isinstance(obj, IndirectObject):
        return
    yield obj
    if isinstance(obj, DictionaryObject):
        for value in list(obj.values()):
            if isinstance(value, (DictionaryObject, ArrayObject)):
                yield from _walk(value)
    elif isinstance(obj, ArrayObject):
        for value in obj:
            if isinstance(value, (DictionaryObject, ArrayObject)):
                yield from _walk(value)


def _clean_objects(writer: PdfWriter) -> list[str]:
    """Fix what PDF/A forbids where that is invisible; return what cannot be fixed."""
    from pypdf.generic import (
        BooleanObject,
        DictionaryObject,
        NameObject,
        NumberObject,
    )

    problems: list[str] = []
    for top in list(writer._objects):
        if top is None:
            continue
        for obj in _walk(top):
            problems.extend(_device_cmyk(writer, obj))
            if not isinstance(obj, DictionaryObject):
                continue
            if "/AA" in obj:  # automatic actions: scripts run on opening, closing, ...
                del obj[NameObject("/AA")]
            action = obj.get("/A")
            if action is not None and obj.get("/Type") != "/StructElem":
                # (a structure element's /A is its attributes, such as a cell's /Headers)
                action_dict = action.get_object()
                if (isinstance(action_dict, DictionaryObject)
                        and action_dict.get("/S") not in ALLOWED_ACTIONS):
                    del obj[NameObject("/A")]
            if "/Next" in obj and obj.get("/S") is not None:
                del obj[NameObject("/Next")]  # a chain of actions may hide a script
            kind = obj.get("/Type")
            subtype = obj.get("/Subtype")
            if kind == "/Annot" or (subtype in ("/Link", "/Text", "/Widget", "/Square",
                                                "/FreeText") and "/Rect" in obj):
                flags = int(cast(int, obj.get("/F", 0)))
                obj[NameObject("/F")] = NumberObject((flags | PRINT_FLAG) & ~HIDING_FLAGS)
            if subtype == "/Image":
                if obj.get("/Interpolate"):
                    obj[NameObject("/Interpolate")] = BooleanObject(False)
                if "/Alternates" in obj:
                    del obj[NameObject("/Alternates")]
                if "/OPI" in obj:
                    del obj[NameObject("/OPI")]
            for key in ("/F", "/FFilter", "/FDecodeParms"):
                if key in obj and "/Length" in obj:
                    problems.append("a stream stored in an external file")
            if kind == "/ExtGState":
                if "/TR" in obj:
                    del obj[NameObject("/TR")]
                if obj.get("/TR2") not in (None, "/Default"):
                    obj[NameObject("/TR2")] = NameObject("/Default")
                blend = obj.get("/BM")
                if isinstance(blend, str) and blend not in STANDARD_BLEND_MODES:
                    obj[NameObject("/BM")] = NameObject("/Normal")
            if kind == "/Font" and subtype in EMBEDDABLE_FONTS:
                descriptor = obj.get("/FontDescriptor")
                descriptor = descriptor.get_object() if descriptor is not None else None
                if not isinstance(descriptor, DictionaryObject) or not any(
                        k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    problems.append(f"the font {_text(obj.get('/BaseFont')) or '?'} "
                                    "is not embedded")
    return problems


def _device_cmyk(writer: PdfWriter, obj: PdfObject) -> list[str]:
    """DeviceCMYK has no meaning in a file whose output intent is sRGB. The crop marks of the
    print profile use a registration separation whose alternate is CMYK: its tint function is
    turned into sRGB (0 is white, 1 is black, as before). Other CMYK use is refused."""
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject

    problems: list[str] = []
    if isinstance(obj, DictionaryObject) and obj.get("/Subtype") == "/Image" \
            and obj.get("/ColorSpace") == "/DeviceCMYK":
        problems.append("an image in device CMYK colour")
    if isinstance(obj, DictionaryObject) and obj.get("/Type") == "/Group" \
            and obj.get("/CS") == "/DeviceCMYK":
        problems.append("a transparency group in device CMYK colour")
    if isinstance(obj, ArrayObject) and len(obj) >= 4 and obj[0] in ("/Separation", "/DeviceN") \
            and obj[2] == "/DeviceCMYK":
        function = obj[3].get_object()
        if (isinstance(function, DictionaryObject) and function.get("/FunctionType") == 2
                and all(len(function.get(k, [0] * 4)) == 4 for k in ("/C0", "/C1"))):
            for key, default in (("/C0", [0.0] * 4), ("/C1", [1.0] * 4)):
                c, m, y, k = (float(v) for v in function.get(key, default))
                function[NameObject(key)] = ArrayObject(
                    FloatObject(round((1 - v) * (1 - k), 4)) for v in (c, m, y))
            obj[2] = _srgb_space(writer)
        else:
            problems.append(f"a {str(obj[0])[1:]} colour with a device CMYK alternate")
    return problems


_ICC_CACHE: list[bytes] = []


def srgb_profile() -> bytes:
    """The sRGB ICC profile: WeasyPrint's (from color.org), else one Pillow makes."""
    if not _ICC_CACHE:
        spec = importlib.util.find_spec("weasyprint")
        data = b""
        for folder in (spec.submodule_search_locations or []) if spec else []:
            candidate = Path(folder) / "pdf" / "sRGB2014.icc"
            if candidate.is_file():
                data = candidate.read_bytes()
                break
        if not data:
            from PIL import ImageCms

            data = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        _ICC_CACHE.append(data)
    return _ICC_CACHE[0]


def _icc_stream(writer: PdfWriter) -> PdfObject:
    from pypdf.generic import DecodedStreamObject, NameObject, NumberObject

    cached = getattr(writer, "_briefing_icc", None)
    if cached is not None:
        return cast("PdfObject", cached)
    stream = DecodedStreamObject()
    stream.set_data(srgb_profile())
    stream[NameObject("/N")] = NumberObject(3)
    ref = writer._add_object(stream.flate_encode(level=9))
    writer._briefing_icc = ref  # type: ignore[attr-defined]
    return ref


def _srgb_space(writer: PdfWriter) -> PdfObject:
    from pypdf.generic import ArrayObject, NameObject

    return ArrayObject([NameObject("/ICCBased"), _icc_stream(writer)])


def _output_intent(writer: PdfWriter) -> PdfObject:
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    return DictionaryObject({
        NameObject("/Type"): NameObject("/OutputIntent"),
        NameObject("/S"): NameObject("/GTS_PDFA1"),
        NameObject("/OutputConditionIdentifier"): TextStringObject(SRGB),
        NameObject("/RegistryName"): TextStringObject("http://www.color.org"),
        NameObject("/Info"): TextStringObject(SRGB),
        NameObject("/DestOutputProfile"): _icc_stream(writer),
    })


def _embed(writer: PdfWriter, sources: Sequence[Source], moddate: str) -> None:
    """Each source as an associated file of the whole document (/AF on the catalog)."""
    from pypdf.generic import (
        ArrayObject,
        ByteStringObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    root = writer.root_object
    specs: list[tuple[str, PdfObject]] = []
    for source in sources:
        stream = DecodedStreamObject()
        stream.set_data(source.data)
        stream.update({
            NameObject("/Type"): NameObject("/EmbeddedFile"),
            NameObject("/Subtype"): NameObject("/" + source.mime_type),
            NameObject("/Params"): DictionaryObject({
                NameObject("/ModDate"): TextStringObject(moddate),
                NameObject("/Size"): NumberObject(len(source.data)),
                NameObject("/CheckSum"): ByteStringObject(hashlib.md5(source.data).digest()),
            }),
        })
        file_ref = writer._add_object(stream.flate_encode(level=9))
        spec = writer._add_object(DictionaryObject({
            NameObject("/Type"): NameObject("/Filespec"),
            NameObject("/F"): TextStringObject(source.name),
            NameObject("/UF"): TextStringObject(source.name),
            NameObject("/Desc"): TextStringObject(f"Source of this PDF: {source.name}"),
            NameObject("/AFRelationship"): NameObject("/Source"),
            NameObject("/EF"): DictionaryObject({NameObject("/F"): file_ref,
                                                 NameObject("/UF"): file_ref}),
        }))
        specs.append((source.name, spec))
    if not specs:
        return
    root[NameObject("/AF")] = ArrayObject(ref for _, ref in specs)
    names = root.get("/Names")
    names_dict = cast(DictionaryObject, names.get_object()) if names is not None else None
    if names_dict is None:
        names_dict = DictionaryObject()
        root[NameObject("/Names")] = writer._add_object(names_dict)
    tree = ArrayObject()
    for name, ref in sorted(specs, key=lambda pair: pair[0].encode("utf-16-be")):
        tree.extend([TextStringObject(name), ref])
    names_dict[NameObject("/EmbeddedFiles")] = writer._add_object(
        DictionaryObject({NameObject("/Names"): tree}))


def _pdfua_part(root: PdfObject) -> str | None:
    """The PDF/UA claim of the file's existing XMP (a `--pdf-ua` build), kept in ours."""
    from pypdf.generic import DictionaryObject, StreamObject

    metadata = cast(DictionaryObject, root).get("/Metadata")
    if metadata is None:
        return None
    stream = metadata.get_object()
    if not isinstance(stream, StreamObject):
        return None
    xml = stream.get_data().decode("utf-8", "replace")
    found = re.search(r"pdfuaid:part(?:=\"|>)\s*(\d+)", xml)
    return found.group(1) if found else None


def xmp_date(pdf_date: str) -> str:
    """`D:20240501120000Z` (or with an offset, or shorter) as ISO 8601 for XMP."""
    found = re.fullmatch(
        r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:(Z)|([+-])(\d{2})'?(\d{2})?'?)?",
        pdf_date.strip())
    if not found:
        raise ValueError(f"not a PDF date: {pdf_date!r}")
    year, month, day, hour, minute, second, _zulu, sign, off_h, off_m = found.groups()
    text = f"{year}-{month or '01'}-{day or '01'}T{hour or '00'}:{minute or '00'}:{second or '00'}"
    if sign:
        return text + f"{sign}{off_h}:{off_m or '00'}"
    return text + "Z"  # `Z`, or no zone at all: read as UTC, as the PDF reference suggests


def parse_xmp_date(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def info_xmp(info: dict[str, str], identifier: bytes, *, lang: str | None) -> bytes:
    """The XMP packet of an archival file with this information dictionary and /ID (a pack's
    copy written as an update of its template, which is never tagged)."""
    return _xmp(info, identifier, lang=lang, ua_part=None)


def _xmp(info: dict[str, str], identifier: bytes, *, lang: str | None,
         ua_part: str | None) -> bytes:
    """The XMP packet, from the information dictionary's own values."""

    def alt(value: str) -> str:
        return (f'<rdf:Alt><rdf:li xml:lang="x-default">{escape(value)}</rdf:li></rdf:Alt>')

    uid = uuid.UUID(bytes=hashlib.md5(identifier).digest())
    props = ["<pdfaid:part>3</pdfaid:part>", "<pdfaid:conformance>B</pdfaid:conformance>"]
    if ua_part:
        props.append(f"<pdfuaid:part>{escape(ua_part)}</pdfuaid:part>")
    if info.get("/Title"):
        props.append(f"<dc:title>{alt(info['/Title'])}</dc:title>")
    if info.get("/Author"):
        props.append(f"<dc:creator><rdf:Seq><rdf:li>{escape(info['/Author'])}</rdf:li>"
                     "</rdf:Seq></dc:creator>")
    if info.get("/Subject"):
        props.append(f"<dc:description>{alt(info['/Subject'])}</dc:description>")
    if lang:
        props.append(f"<dc:language><rdf:Bag><rdf:li>{escape(lang)}</rdf:li></rdf:Bag>"
                     "</dc:language>")
    if info.get("/Keywords"):
        props.append(f"<pdf:Keywords>{escape(info['/Keywords'])}</pdf:Keywords>")
    if info.get("/Producer"):
        props.append(f"<pdf:Producer>{escape(info['/Producer'])}</pdf:Producer>")
    if info.get("/Creator"):
        props.append(f"<xmp:CreatorTool>{escape(info['/Creator'])}</xmp:CreatorTool>")
    created, modified = xmp_date(info["/CreationDate"]), xmp_date(info["/ModDate"])
    props += [f"<xmp:CreateDate>{created}</xmp:CreateDate>",
              f"<xmp:ModifyDate>{modified}</xmp:ModifyDate>",
              f"<xmp:MetadataDate>{modified}</xmp:MetadataDate>",
              f"<xmpMM:DocumentID>uuid:{uid}</xmpMM:DocumentID>",
              f"<xmpMM:InstanceID>uuid:{uid}</xmpMM:InstanceID>"]
    extension = _UA_EXTENSION if ua_part else ""
    ua_namespace = '\n    xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/"' if ua_part else ""
    body = "\n   ".join(props)
    packet = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"{ua_namespace}
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/">
   {body}
  </rdf:Description>{extension}
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="r"?>"""
    return packet.encode("utf-8")


_UA_EXTENSION = """
  <rdf:Description rdf:about=""
    xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
    xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
    xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
   <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
    <pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
    <pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
    <pdfaSchema:schema>PDF/UA identification schema</pdfaSchema:schema>
    <pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
     <pdfaProperty:name>part</pdfaProperty:name>
     <pdfaProperty:valueType>Integer</pdfaProperty:valueType>
     <pdfaProperty:category>internal</pdfaProperty:category>
     <pdfaProperty:description>PDF/UA version identifier</pdfaProperty:description>
    </rdf:li></rdf:Seq></pdfaSchema:property>
   </rdf:li></rdf:Bag></pdfaExtension:schemas>
  </rdf:Description>"""


# --- getting the sources back ---------------------------------------------------------------

#: an embedded source is a content file, which is never larger than this (source/load.py)
MAX_EXTRACTED_FILE_BYTES = MAX_SOURCE_BYTES
#: all embedded sources together, and how many there may be
MAX_EXTRACTED_TOTAL_BYTES = 128 * 1024 * 1024
MAX_EXTRACTED_FILES = 10_000


def read_archival_pdf(path: Path, shown: str) -> bytes:
    """The PDF `extract` reads: a regular file (never a FIFO that blocks or a device that
    never ends) of at most the size of a supplied PDF."""
    from briefing.assemble.supplied import read_untrusted

    return read_untrusted(path, shown, "PDF")


def embedded_sources(pdf: bytes, shown: str) -> list[Source]:
    """The files a `--pdf-a` build embedded as its source (/AFRelationship /Source).

    The PDF is untrusted: each embedded file is measured before it is decoded (a megabyte at a
    time, the output thrown away, as for supplied PDFs), and refused past
    MAX_EXTRACTED_FILE_BYTES, or when all of them pass MAX_EXTRACTED_TOTAL_BYTES; the whole
    reading has a time limit. Any failure is one BriefingError naming the file."""
    from briefing.assemble.supplied import SECONDS_BASE, SECONDS_PER_MB
    from briefing.render.timelimit import TimeLimitExceeded, time_limit

    seconds = SECONDS_BASE + SECONDS_PER_MB * len(pdf) / 1024 / 1024
    try:
        with time_limit(seconds):
            return _embedded_sources(pdf, shown)
    except TimeLimitExceeded:
        raise BriefingError.at(shown, None, f"took longer than {seconds:.0f} s to read; "
                               "is it damaged?") from None


def _embedded_sources(pdf: bytes, shown: str) -> list[Source]:
    from pypdf.generic import DictionaryObject, StreamObject

    from briefing.assemble.pdfio import name_tree_values, open_pdf

    if not pdf.lstrip()[:5] == b"%PDF-":
        raise BriefingError.at(shown, None, "is not a PDF")
    quiet = logging.getLogger("pypdf")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # a broken file is one clean message, not pypdf's chatter
    total = 0
    try:
        reader = open_pdf(pdf, strict=False)
        if reader.is_encrypted:
            raise BriefingError.at(shown, None, "is encrypted; archival PDFs never are")
        root = cast(DictionaryObject, reader.trailer["/Root"].get_object())
        names = root.get("/Names")
        names = names.get_object() if names is not None else None
        specs: list[object] = list(name_tree_values(
            names.get("/EmbeddedFiles") if isinstance(names, DictionaryObject) else None))
        for ref in root.get("/AF", []) or []:
            specs.append(ref.get_object())
        sources: list[Source] = []
        seen: set[int] = set()
        for spec in specs:
            if not isinstance(spec, DictionaryObject) or id(spec) in seen:
                continue
            seen.add(id(spec))
            if spec.get("/AFRelationship") != "/Source":
                continue
            name = _text(spec.get("/UF")) or _text(spec.get("/F")) or ""
            files = spec.get("/EF", DictionaryObject()).get_object()
            stream = (files.get("/UF") or files.get("/F"))
            stream = stream.get_object() if stream is not None else None
            if not isinstance(stream, StreamObject):
                continue
            if len(sources) >= MAX_EXTRACTED_FILES:
                raise BriefingError.at(shown, None, f"has more than {MAX_EXTRACTED_FILES} "
                                       "embedded sources")
            total += _decoded_size(stream, name, shown)
            if total > MAX_EXTRACTED_TOTAL_BYTES:
                raise BriefingError.at(shown, None, "its embedded sources are larger than "
                                       f"{MAX_EXTRACTED_TOTAL_BYTES // 1024 // 1024} MB in all")
            source = Source(name, stream.get_data())
            if source not in sources:
                sources.append(source)
    except BriefingError:
        raise
    except MemoryError:
        raise BriefingError.at(shown, None, "is too large to read") from None
    except Exception as exc:  # untrusted: pypdf's PdfReadError, LimitReachedError, anything
        raise BriefingError.at(shown, None, f"is not a readable PDF: {exc}") from None
    finally:
        quiet.setLevel(level)
    if not sources:
        raise BriefingError.at(shown, None, "has no embedded sources (build with --pdf-a)")
    return sources


def _decoded_size(stream: PdfObject, name: str, shown: str) -> int:
    """An embedded file's size once decoded, measured without keeping the output; refused
    past MAX_EXTRACTED_FILE_BYTES, or in an encoding briefing never writes."""
    from briefing.assemble.supplied import inflated_size

    limit = MAX_EXTRACTED_FILE_BYTES
    too_big = BriefingError.at(shown, None, f"the embedded file {name!r} is larger than "
                               f"{limit // 1024 // 1024} MB, the most a source can be")
    raw: bytes = stream._data  # type: ignore[attr-defined]
    found = stream.get("/Filter")  # type: ignore[attr-defined]
    found = found.get_object() if found is not None else None
    filters = [str(f) for f in found] if isinstance(found, list) else \
        [str(found)] if found is not None else []
    if not filters:
        size: int | None = len(raw)
    elif filters == ["/FlateDecode"] and not stream.get("/DecodeParms"):  # type: ignore[attr-defined]
        size = inflated_size(raw, limit)
    else:
        raise BriefingError.at(shown, None, f"the embedded file {name!r} is encoded with "
                               f"{' '.join(filters)}, which briefing never writes")
    if size is None or size > limit:
        raise too_big
    return size


def safe_relative(name: str) -> PurePosixPath:
    """The embedded name as a relative path that stays inside the output folder, or an
    error: no absolute paths, drive letters, backslashes, `..`, empty parts or control
    characters (a crafted PDF must not write anywhere else, nor hide what it writes)."""
    if not name or len(name) > 1024:
        raise ValueError("an empty or overlong name")
    bad = [c for c in name if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
    if bad:
        raise ValueError("control or invisible characters in the name")
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise ValueError("an absolute path")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError("`..`, `.` or an empty part in the path")
    if any(len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for part in parts):
        raise ValueError(f"a part of the path is longer than {MAX_NAME_BYTES} bytes")
    return PurePosixPath(*parts)


def write_sources(sources: Sequence[Source], out_dir: Path, *, shown: str,
                  force: bool = False) -> list[Path]:
    """Write each source under `out_dir` at its relative path. Every name is checked, and no
    existing file is replaced (unless `force`), before anything is written; then all of them
    are written together (output.write_together), so a failure leaves nothing behind."""
    from briefing.output import write_together

    base = out_dir.resolve()
    problems: list[Problem] = []
    targets: list[tuple[Path, bytes]] = []
    for source in sources:
        try:
            relative = safe_relative(source.name)
        except ValueError as why:
            problems.append(Problem(shown, None, f"refused the embedded file {source.name!r}: "
                                    f"{why}"))
            continue
        target = base.joinpath(*relative.parts)
        named = out_dir.joinpath(*relative.parts)
        resolved = target.resolve()
        if base not in resolved.parents:
            problems.append(Problem(shown, None, f"refused the embedded file {source.name!r}: "
                                    "it would land outside the output folder (a link?)"))
        elif target.is_symlink() or (target.exists() and not target.is_file()):
            problems.append(Problem(shown, None, f"{named}: exists and is not a plain file"))
        elif target.exists() and not force:
            problems.append(Problem(shown, None, f"{named}: already exists (use --force to "
                                    "overwrite)"))
        elif any(t == target for t, _ in targets):
            problems.append(Problem(shown, None, f"the embedded file {source.name!r} is there "
                                    "twice with different contents"))
        else:
            targets.append((target, source.data))
    problems.extend(_folder_clashes([t for t, _ in targets], base, shown))
    if problems:
        raise BriefingError(problems)
    write_together(targets)
    return [target for target, _ in targets]


def _folder_clashes(targets: Sequence[Path], base: Path, shown: str) -> list[Problem]:
    """A file that would also have to be a folder (`content/a` and `content/a/b.yaml`), or a
    folder to create where a file (or anything but a folder) already is."""
    files = set(targets)
    problems: list[Problem] = []
    for target in targets:
        for folder in target.relative_to(base).parents:
            if folder == Path("."):
                continue
            if base / folder in files:
                problems.append(Problem(shown, None, f"the embedded files {str(folder)!r} and "
                                        f"{str(target.relative_to(base))!r} would need "
                                        f"{str(folder)!r} to be a file and a folder"))
            elif (base / folder).is_symlink() or (
                    (base / folder).exists() and not (base / folder).is_dir()):
                problems.append(Problem(shown, None, f"{base / folder}: exists and is not a "
                                        "folder"))
    return list(dict.fromkeys(problems))


def over_budget(pdf: bytes, budget: int, shown: str) -> None:
    """The e-mail budget again, for the archival file: the sources and the colour profile
    add a few kilobytes after the profile's own check."""
    if len(pdf) > budget:
        from briefing.finish.optimise import budget_message, size_report

        raise BriefingError.at(shown, None, budget_message(None, len(pdf), budget,
                                                           size_report(pdf)))
