"""What every PDF briefing writes declares, whatever the profile: its version, printable links.

- pypdf's `PdfWriter()` starts files with `%PDF-1.3`, yet the files use PDF 1.4 keys and later
  (/Lang, /DisplayDocTitle, structure trees, transparency groups); WeasyPrint writes 1.7 and
  PDF/A-3 and PDF/UA-1 are both built on PDF 1.7 (ISO 32000-1), so every writer says 1.7.
- A link annotation without the Print flag (ISO 32000-1 12.5.3, bit 3) is, strictly, not to be
  printed; PDF/A requires the flag and print shops' preflight checks warn without it, so every
  link annotation gets it.
"""

from __future__ import annotations

from typing import cast

from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

PDF_HEADER = b"%PDF-1.7"
PRINT_FLAG = 4


def declare_pdf_17(writer: PdfWriter) -> None:
    writer.pdf_header = PDF_HEADER


def print_links(writer: PdfWriter) -> None:
    """Set the Print flag on every link annotation of the file."""
    for page in writer.pages:
        annots = page.get("/Annots")
        resolved = annots.get_object() if annots is not None else None
        for ref in resolved if isinstance(resolved, ArrayObject) else ():
            annot = ref.get_object()
            if isinstance(annot, DictionaryObject) and annot.get("/Subtype") == "/Link":
                flags = int(cast(int, annot.get("/F", 0)))
                annot[NameObject("/F")] = NumberObject(flags | PRINT_FLAG)


def no_stream_ends_in_cr(writer: PdfWriter) -> int:
    """Re-encode each Flate stream whose data ends in a carriage return; returns how many.

    pypdf writes `stream` data then LF then `endstream`. Data that ends in CR then reads as
    ending in CR LF, the end-of-line before `endstream`, one byte short of /Length: validators
    reject it (`page` PDFA3B-STREAM-LENGTH-001, ISO 19005 stream rules). A zlib stream ends in
    the Adler-32 checksum of its content, so no compression level changes that last byte.
    A content stream (a page's, a form's, a CMap) gets a trailing newline, which changes the
    checksum and means nothing; any other stream (a font, an image) gets an ASCIIHex layer
    over its Flate data, which ends in ">". Both depend on the content only, so builds stay
    byte-identical.
    """
    import binascii
    import zlib

    from pypdf.generic import StreamObject

    changed = 0
    for obj in writer._objects:
        if not isinstance(obj, StreamObject) or not obj._data.endswith(b"\r"):
            continue
        if obj.get("/Filter") != "/FlateDecode" or "/DecodeParms" in obj:
            continue
        text_like = obj.get("/Subtype") == "/Form" or not any(
            key in obj for key in ("/Type", "/Subtype", "/N", "/Length1", "/Length2"))
        decoded = obj.get_data()
        data = zlib.compress(decoded + b"\n", 9) if text_like else b""
        if text_like and not data.endswith(b"\r"):
            obj._data = data
        else:
            obj._data = binascii.hexlify(obj._data) + b">"
            obj[NameObject("/Filter")] = ArrayObject(
                [NameObject("/ASCIIHexDecode"), NameObject("/FlateDecode")])
        changed += 1
    return changed
