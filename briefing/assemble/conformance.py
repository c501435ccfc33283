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
