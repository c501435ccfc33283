"""The `print` profile's page work: bleed and crop marks, and blank pages for duplex printing.

Both keep the document as it is, and so keep what a reader navigates by: links, the outline,
named destinations and metadata are untouched (they refer to page objects, which stay the same
objects), and page labels are rewritten so every original page keeps its label.

`print_marks` does not move the page content: it grows the page boxes around it (the
MediaBox gets a negative origin, which PDF allows), so link rectangles and destinations keep
their coordinates. It cannot invent the picture beyond the page edge: a background meant to run
to the edge of the trimmed sheet must be drawn into the bleed by the theme (WeasyPrint's
`@page { bleed: 3mm }`); a page that already carries a TrimBox (as WeasyPrint writes then) is
trimmed there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    RectangleObject,
    TextStringObject,
)

from briefing.assemble.pdfio import (
    MM,
    append_content,
    number_tree,
    page_resources,
    read,
    resource_dict,
    to_bytes,
)

MARK_LENGTH_MM = 6.0
"""How long each crop mark is."""
MARK_WIDTH_PT = 0.25
"""Crop marks are hairlines."""
MARK_OFFSET_MM = 3.0
"""Crop marks never come nearer the trim than this (nor than the bleed), so a slightly
misaligned cut does not show them."""
REGISTRATION = "/BriefingRegistration"
"""The colour space resource of the marks: the /All separation, so they print on every plate
(the registration colour of prepress)."""
BLANK_LABEL = "blank"
"""The page label of an inserted blank page."""


def print_marks(pdf: bytes, bleed_mm: float = 3.0, marks_mm: float = 10.0) -> bytes:
    """Every page grows by the bleed plus room for crop marks on each side: TrimBox is the page
    as designed, BleedBox the trim plus `bleed_mm`, and thin registration-colour crop marks
    sit at the trim corners outside the bleed, in the `marks_mm` margin beyond it."""
    if bleed_mm < 0:
        raise ValueError("the bleed cannot be negative")
    offset = max(bleed_mm, MARK_OFFSET_MM)
    if offset + MARK_LENGTH_MM > bleed_mm + marks_mm:
        raise ValueError(f"{marks_mm} mm leaves no room for crop marks beyond the bleed")
    writer = PdfWriter(clone_from=read(pdf))
    registration = writer._add_object(_registration_colour())
    tagged = "/StructTreeRoot" in writer.root_object  # --pdf-ua: marks are artifacts
    for page in writer.pages:
        _mark(writer, page, registration, bleed_mm * MM, marks_mm * MM, offset * MM, tagged)
    return to_bytes(writer)


def _registration_colour() -> ArrayObject:
    tint = DictionaryObject({
        NameObject("/FunctionType"): NumberObject(2),
        NameObject("/Domain"): ArrayObject([NumberObject(0), NumberObject(1)]),
        NameObject("/C0"): ArrayObject([NumberObject(0)] * 4),
        NameObject("/C1"): ArrayObject([NumberObject(1)] * 4),
        NameObject("/N"): NumberObject(1),
    })
    return ArrayObject([NameObject("/Separation"), NameObject("/All"),
                        NameObject("/DeviceCMYK"), tint])


def _box(values: Iterable[float]) -> RectangleObject:
    return RectangleObject([FloatObject(round(v, 3)) for v in values])


def _mark(writer: PdfWriter, page: PageObject, registration: IndirectObject,
          bleed: float, margin: float, offset: float, tagged: bool = False) -> None:
    trim = page.trimbox
    left, bottom = float(trim.left), float(trim.bottom)
    right, top = float(trim.right), float(trim.top)
    old = page.mediabox
    grow = bleed + margin
    media = (min(left - grow, float(old.left)), min(bottom - grow, float(old.bottom)),
             max(right + grow, float(old.right)), max(top + grow, float(old.top)))
    page[NameObject("/TrimBox")] = _box((left, bottom, right, top))
    page[NameObject("/BleedBox")] = _box((left - bleed, bottom - bleed, right + bleed,
                                          top + bleed))
    page[NameObject("/MediaBox")] = _box(media)
    page[NameObject("/CropBox")] = _box(media)

    length = MARK_LENGTH_MM * MM
    lines: list[str] = []
    for x, dx in ((left, -1), (right, 1)):
        for y, dy in ((bottom, -1), (top, 1)):
            start, end = offset, offset + length
            lines.append(f"{x + dx * start:.3f} {y:.3f} m {x + dx * end:.3f} {y:.3f} l")
            lines.append(f"{x:.3f} {y + dy * start:.3f} m {x:.3f} {y + dy * end:.3f} l")
    resource_dict(page_resources(page), "/ColorSpace")[NameObject(REGISTRATION)] = registration
    marks = (f"q {REGISTRATION} CS 1 SCN {MARK_WIDTH_PT} w 0 J [] 0 d\n"
             + "\n".join(lines) + "\nS Q\n")
    if tagged:  # printer's marks are no part of the document: outside the structure tree
        marks = f"/Artifact <</Type /Page>> BDC\n{marks}EMC\n"
    append_content(writer, page, marks.encode())


def duplex_blanks(pages: int, starts: Iterable[int]) -> list[int]:
    """The input page indexes before which a blank page goes, so that each start page lands
    on a right-hand (odd-numbered) page when the whole file is printed duplex."""
    blanks: list[int] = []
    for start in sorted(set(starts)):
        if not 0 <= start < pages:
            raise ValueError(f"start page {start} is not in a PDF of {pages} pages")
        if (start + len(blanks)) % 2 == 1:
            blanks.append(start)
    return blanks


def pad_for_duplex(pdf: bytes, starts: Sequence[int]) -> bytes:
    """Insert blank pages so each page index in `starts` (the first page of each document of a
    pack, say) begins on a right-hand page. A blank takes the boxes of the page before it;
    links, outline and labels of the original pages are kept, the blanks are labelled
    "blank"."""
    reader = read(pdf)
    blanks = duplex_blanks(len(reader.pages), starts)
    if not blanks:
        return pdf
    ranges = _label_ranges(reader)
    writer = PdfWriter(clone_from=reader)
    for done, before in enumerate(blanks):
        index = before + done
        previous = writer.pages[index - 1]
        blank = writer.insert_blank_page(
            float(previous.mediabox.width), float(previous.mediabox.height), index)
        for key in ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox"):
            if key in previous:
                blank[NameObject(key)] = RectangleObject(
                    cast(ArrayObject, previous[key].get_object()))
    nums = _shift_labels(ranges, blanks, len(reader.pages))
    writer.root_object[NameObject("/PageLabels")] = DictionaryObject({
        NameObject("/Nums"): ArrayObject(n.clone(writer) for n in nums),
    })
    return to_bytes(writer)


def _label_ranges(reader: PdfReader) -> list[tuple[int, DictionaryObject]]:
    """The page label ranges of a PDF (first page index, label dictionary); a PDF without
    labels counts 1, 2, 3, …"""
    found = [(index, cast(DictionaryObject, spec.get_object())) for index, spec in
             number_tree(reader.root_object.get("/PageLabels")).items()
             if isinstance(spec.get_object(), DictionaryObject)]
    found.sort(key=lambda pair: pair[0])
    if not found or found[0][0] != 0:
        found.insert(0, (0, DictionaryObject({NameObject("/S"): NameObject("/D")})))
    return found


def _shift_labels(ranges: list[tuple[int, DictionaryObject]], blanks: list[int],
                  pages: int) -> list[PdfObject]:
    """The /Nums array of the padded file: each original range moved, split where a blank
    interrupts it (the part after the blank resuming its numbering), and a range of its own
    for each blank."""

    def moved(index: int) -> int:
        return index + sum(1 for b in blanks if b <= index)

    entries: list[tuple[int, DictionaryObject]] = [
        (moved(b) - 1, DictionaryObject({NameObject("/P"): TextStringObject(BLANK_LABEL)}))
        for b in blanks
    ]
    bounds = [start for start, _ in ranges] + [pages]
    for (start, spec), end in zip(ranges, bounds[1:], strict=False):
        if start >= pages:
            continue
        cuts = [start] + [b for b in blanks if start < b < end]
        first = int(cast(int, spec.get("/St", 1)))
        for cut in cuts:
            piece = DictionaryObject({NameObject(k): v for k, v in spec.items()})
            if cut != start and "/S" in spec:
                piece[NameObject("/St")] = NumberObject(first + cut - start)
            entries.append((moved(cut), piece))
    entries.sort(key=lambda pair: pair[0])
    nums: list[PdfObject] = []
    for index, spec in entries:
        nums += [NumberObject(index), spec]
    return nums
