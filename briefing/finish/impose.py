"""Imposition: several pages of a finished PDF placed on larger sheets, for print.

`booklet` makes a saddle-stitched booklet (A5 pages two-up on A4 landscape sheets, in the order
that comes out right when the stack is printed duplex, flipped on the short edge, and folded);
`n_up` makes handouts (2 or 4 pages to a sheet, in reading order).

Pages are placed with pypdf page transformations (`merge_transformed_page`), so their text stays
text (searchable, selectable) and nothing is rasterised. A page of any size is scaled to fit its
cell, keeping its proportions, and centred; a page's /Rotate is honoured.

What survives and what does not: links to the web keep working, moved with their page. A link
or outline entry inside the document now lands on the sheet that carries its target page (at
the target's place on that sheet), which is the best a sheet can do; page labels are not kept,
because a sheet side has no single page number. Annotations other than links are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.generic import (
    ArrayObject,
    Destination,
    DictionaryObject,
    Fit,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    RectangleObject,
)

from briefing.assemble.pdfio import (
    MM,
    append_content,
    copy_document_info,
    link_target,
    read,
    to_bytes,
)
from briefing.render.html import PAPERS, Paper

A4 = PAPERS["a4"]

GUTTER_MM = 6.0
"""Space between handout cells, and around the edge of a handout sheet (printers rarely print
to the edge)."""


@dataclass(frozen=True)
class Placement:
    """Where one input page went: the output page and the transformation from the input page's
    user space onto it."""

    sheet: int
    transform: Transformation


def booklet_order(pages: int, back_cover: bool = False) -> list[tuple[int | None, int | None]]:
    """The (left, right) input page index of every sheet side, front then back of each sheet,
    None for a blank. `pages` is padded to a multiple of four: for N pages the front of sheet 1
    carries N and 1, its back 2 and N-1, the front of sheet 2 carries N-2 and 3, and so on.
    `back_cover`: the last input page is the outside back cover, so it stays the booklet's last
    page and the blanks go before it (inside the back cover), not after it."""
    if pages < 1:
        raise ValueError("a booklet needs at least one page")
    total = 4 * math.ceil(pages / 4)

    def page(number: int) -> int | None:  # 1-based in, 0-based out, None for a blank
        if back_cover and pages > 1 and number == total:
            return pages - 1
        if back_cover and pages > 1 and number >= pages:
            return None
        return number - 1 if number <= pages else None

    sides: list[tuple[int | None, int | None]] = []
    for sheet in range(total // 4):
        low, high = 2 * sheet + 1, total - 2 * sheet
        sides.append((page(high), page(low)))
        sides.append((page(low + 1), page(high - 1)))
    return sides


def booklet(pdf: bytes, sheet: Paper = A4, back_cover: bool = False) -> bytes:
    """Saddle-stitch imposition: pages two-up on landscape `sheet`s (A5 on A4 by default) in
    booklet order, padded with blank pages to a multiple of four (before the last page, with
    `back_cover`). Print duplex, flipping on the short edge, then fold the stack in the middle
    and staple on the fold."""
    reader = read(pdf)
    width, height = sheet.height_mm * MM, sheet.width_mm * MM  # landscape
    cells = [(0.0, 0.0, width / 2, height), (width / 2, 0.0, width / 2, height)]
    layout = [list(side) for side in booklet_order(len(reader.pages), back_cover)]
    return _impose(reader, layout, cells, (width, height), b"booklet", frame=False)


def n_up(pdf: bytes, n: int, sheet: Paper = A4) -> bytes:
    """Handouts: 2 pages side by side on a landscape sheet, or 4 (two by two) on a portrait
    sheet, in reading order, each scaled to fit its cell with a small gutter and a hairline
    frame (so a white page's edge shows on white paper)."""
    reader = read(pdf)
    gutter = GUTTER_MM * MM
    if n == 2:
        width, height = sheet.height_mm * MM, sheet.width_mm * MM
        columns, rows = 2, 1
    elif n == 4:
        width, height = sheet.width_mm * MM, sheet.height_mm * MM
        columns, rows = 2, 2
    else:
        raise ValueError(f"handouts are 2-up or 4-up, not {n}-up")
    cell_w = (width - gutter * (columns + 1)) / columns
    cell_h = (height - gutter * (rows + 1)) / rows
    cells = [
        (gutter + col * (cell_w + gutter), height - (row + 1) * (cell_h + gutter), cell_w, cell_h)
        for row in range(rows)
        for col in range(columns)
    ]
    count = len(reader.pages)
    layout: list[list[int | None]] = [
        [i if i < count else None for i in range(start, start + n)]
        for start in range(0, count, n)
    ]
    return _impose(reader, layout, cells, (width, height), f"{n}-up".encode(), frame=True)


Cell = tuple[float, float, float, float]


def _impose(
    reader: PdfReader,
    layout: Sequence[Sequence[int | None]],
    cells: Sequence[Cell],
    size: tuple[float, float],
    salt: bytes,
    frame: bool,
) -> bytes:
    writer = PdfWriter()
    placements: dict[int, Placement] = {}
    sources = list(reader.pages)
    annotations: dict[int, list[DictionaryObject]] = {}
    for index, page in enumerate(sources):
        # Links are carried over by hand below: merging them as they are would copy each
        # link's target page (and everything it uses) into the output as an orphan.
        annots = page.get("/Annots")
        if annots is not None:
            annotations[index] = [cast(DictionaryObject, a.get_object())
                                  for a in cast(ArrayObject, annots.get_object())]
            del page[NameObject("/Annots")]
    for sheet_index, side in enumerate(layout):
        out = writer.add_blank_page(*size)
        frames: list[bytes] = []
        for source, cell in zip(side, cells, strict=False):
            if source is None:
                continue
            transform, (w, h) = _fit(sources[source], cell)
            out.merge_transformed_page(sources[source], transform)
            placements[source] = Placement(sheet_index, transform)
            if frame:
                x, y = transform.apply_on((0.0, 0.0))
                frames.append(f"{x:.3f} {y:.3f} {w:.3f} {h:.3f} re".encode())
        out.compress_content_streams(level=9)  # merging leaves the content uncompressed
        if frames:
            append_content(writer, out, b"q 0.6 G 0.4 w\n" + b"\n".join(frames) + b"\nS Q\n")
    _carry_links(reader, writer, annotations, placements)
    _carry_outline(reader, writer, placements)
    copy_document_info(reader, writer, b"briefing " + salt)
    return to_bytes(writer)


def _upright(page: PageObject) -> tuple[Transformation, float, float]:
    """The transformation from a page's user space to its visible area as shown (crop box,
    /Rotate applied) with the lower-left corner at the origin, and that area's size."""
    box = page.cropbox
    left, bottom = float(box.left), float(box.bottom)
    right, top = float(box.right), float(box.top)
    turn = Transformation().translate(-left, -bottom).rotate(-(page.rotation % 360))
    corners = [turn.apply_on(p) for p in ((left, bottom), (right, top))]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    turn = turn.translate(-min(xs), -min(ys))
    return turn, max(xs) - min(xs), max(ys) - min(ys)


def _fit(page: PageObject, cell: Cell) -> tuple[Transformation, tuple[float, float]]:
    """Scale a page to fit the cell, keeping proportions, centred; also the placed size."""
    upright, width, height = _upright(page)
    x, y, cell_w, cell_h = cell
    scale = min(cell_w / width, cell_h / height)
    placed_w, placed_h = width * scale, height * scale
    transform = upright.scale(scale).translate(
        x + (cell_w - placed_w) / 2, y + (cell_h - placed_h) / 2)
    return transform, (placed_w, placed_h)


def _page_index(reader: PdfReader) -> dict[int, int]:
    return {
        cast(IndirectObject, page.indirect_reference).idnum: index
        for index, page in enumerate(reader.pages)
    }


def _resolve(reader: PdfReader, dest: PdfObject | None,
             pages: dict[int, int]) -> tuple[int, float | None, float | None] | None:
    """An explicit or named destination as (page index, left, top), None if it leads
    nowhere in this document."""
    if dest is None:
        return None
    dest = dest.get_object()
    if isinstance(dest, (str, bytes)):
        name = dest.decode("latin-1") if isinstance(dest, bytes) else str(dest)
        named = reader.named_destinations.get(name)
        if named is None:
            return None
        index = reader.get_destination_page_number(named)
        if index is None:
            return None
        return index, _number(named.left), _number(named.top)
    if isinstance(dest, DictionaryObject) and "/D" in dest:
        return _resolve(reader, dest["/D"], pages)
    if not isinstance(dest, ArrayObject) or len(dest) < 2:
        return None
    target = dest[0]
    if not isinstance(target, IndirectObject) or target.idnum not in pages:
        return None
    kind = str(dest[1])
    args = [_number(a) for a in dest[2:]]
    left: float | None = None
    top: float | None = None
    if kind == "/XYZ" and len(args) >= 2:
        left, top = args[0], args[1]
    elif kind in ("/FitH", "/FitBH") and args:
        top = args[0]
    elif kind in ("/FitV", "/FitBV") and args:
        left = args[0]
    elif kind == "/FitR" and len(args) >= 4:
        left, top = args[0], args[3]
    return pages[target.idnum], left, top


def _number(value: object) -> float | None:
    if value is None or isinstance(value, NullObject):
        return None
    try:
        return float(cast(float, value))
    except (TypeError, ValueError):
        return None


def _target(reader: PdfReader, placements: dict[int, Placement], index: int,
            left: float | None, top: float | None) -> tuple[int, float, float] | None:
    """Where a destination lands in the output: sheet index and point on the sheet. An unset
    left/top means the target page's own top-left corner."""
    placed = placements.get(index)
    if placed is None:
        return None
    box = reader.pages[index].cropbox
    x = float(box.left) if left is None else left
    y = float(box.top) if top is None else top
    # The page's top-left corner, moved: after a /Rotate it may not be the sheet's top-left,
    # so take the upper and lefter of the placed corners of the target page.
    if left is None or top is None:
        corners = [placed.transform.apply_on((float(px), float(py)))
                   for px in (box.left, box.right) for py in (box.bottom, box.top)]
        x_out, y_out = placed.transform.apply_on((x, y))
        if left is None:
            x_out = min(c[0] for c in corners)
        if top is None:
            y_out = max(c[1] for c in corners)
        return placed.sheet, x_out, y_out
    x_out, y_out = placed.transform.apply_on((x, y))
    return placed.sheet, x_out, y_out


def _carry_links(reader: PdfReader, writer: PdfWriter,
                 annotations: dict[int, list[DictionaryObject]],
                 placements: dict[int, Placement]) -> None:
    """Re-create the link annotations of the placed pages on their sheets: web links as they
    were, internal links pointing at the sheet that carries their target."""
    pages = _page_index(reader)
    for index, annots in sorted(annotations.items()):
        placed = placements.get(index)
        if placed is None:
            continue
        sheet = writer.pages[placed.sheet]
        for annot in annots:
            if annot.get("/Subtype") != "/Link" or "/Rect" not in annot:
                continue
            rect = RectangleObject(cast(ArrayObject, annot["/Rect"]))
            corners = [placed.transform.apply_on((float(x), float(y)))
                       for x in (rect.left, rect.right) for y in (rect.bottom, rect.top)]
            link = DictionaryObject({
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject(FloatObject(round(v, 3)) for v in (
                    min(c[0] for c in corners), min(c[1] for c in corners),
                    max(c[0] for c in corners), max(c[1] for c in corners))),
                NameObject("/Border"): ArrayObject([NumberObject(0)] * 3),
            })
            target = link_target(annot)
            if target is not None and target[0] == "uri":
                link[NameObject("/A")] = DictionaryObject({
                    NameObject("/S"): NameObject("/URI"),
                    NameObject("/URI"): cast(PdfObject, target[1]).clone(writer),
                })
            else:
                dest = cast(PdfObject, target[1]) if target is not None else None
                found = _resolve(reader, dest, pages)
                landed = _target(reader, placements, *found) if found else None
                if landed is None:
                    continue
                out, x, y = landed
                link[NameObject("/Dest")] = ArrayObject([
                    writer.pages[out].indirect_reference, NameObject("/XYZ"),
                    FloatObject(round(x, 3)), FloatObject(round(y, 3)), NullObject()])
            existing = sheet.get("/Annots")
            if existing is None:
                existing = ArrayObject()
                sheet[NameObject("/Annots")] = existing
            cast(ArrayObject, existing.get_object()).append(writer._add_object(link))


def _carry_outline(reader: PdfReader, writer: PdfWriter,
                   placements: dict[int, Placement]) -> None:
    """The outline, each entry pointing at the sheet that carries its target."""

    def walk(items: Sequence[object], parent: IndirectObject | None) -> None:
        last: IndirectObject | None = None
        for item in items:
            if isinstance(item, list):
                if last is not None:
                    walk(item, last)
                continue
            if not isinstance(item, Destination):
                continue
            dest = item
            index = reader.get_destination_page_number(dest)
            landed = (_target(reader, placements, index, _number(dest.left), _number(dest.top))
                      if index is not None else None)
            if landed is None:
                last = None
                continue
            out, x, y = landed
            last = writer.add_outline_item(
                title=str(dest.title or ""), page_number=out, parent=parent,
                fit=Fit.xyz(left=round(x, 3), top=round(y, 3)), is_open=True)

    walk(reader.outline, None)
    if reader.outline:
        writer.root_object[NameObject("/PageMode")] = NameObject("/UseOutlines")
