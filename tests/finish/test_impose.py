"""Booklet and handout imposition, checked on the produced PDF with pdftotext crop boxes:
the left and right half (or the quarters) of each output page must say the right "PAGE n"."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pdf_samples import (
    A4,
    A5,
    numbered_pdf,
    numbers,
    page_objects,
    page_sizes,
    qpdf_check,
    text,
    write,
)
from pypdf import PdfReader

from briefing.finish.impose import booklet, booklet_order, n_up

LANDSCAPE = (841.9, 595.3)
PORTRAIT = (595.3, 841.9)


def expected_sides(pages: int) -> list[tuple[int | None, int | None]]:
    """The booklet order written out by hand from the folding rule, 1-based, None for blank:
    front of sheet k = [N-2k, 2k+1], back = [2k+2, N-2k-1]."""
    total = -(-pages // 4) * 4
    sides: list[tuple[int | None, int | None]] = []
    for k in range(total // 4):
        for pair in ((total - 2 * k, 2 * k + 1), (2 * k + 2, total - 2 * k - 1)):
            sides.append(tuple(p if p <= pages else None for p in pair))  # type: ignore[arg-type]
    return sides


def halves(path: Path, page: int) -> tuple[list[int], list[int]]:
    width, height = LANDSCAPE
    left = numbers(text(path, page, (0, 0, width / 2, height)))
    right = numbers(text(path, page, (width / 2, 0, width / 2, height)))
    return left, right


def test_booklet_order_by_rule() -> None:
    assert booklet_order(4) == [(3, 0), (1, 2)]
    assert booklet_order(8) == [(7, 0), (1, 6), (5, 2), (3, 4)]
    assert booklet_order(5) == [(None, 0), (1, None), (None, 2), (3, 4)]
    for pages in range(1, 30):
        order = booklet_order(pages)
        assert [(None if a is None else a + 1, None if b is None else b + 1)
                for a, b in order] == expected_sides(pages)
        placed = sorted(p for side in order for p in side if p is not None)
        assert placed == list(range(pages))
    with pytest.raises(ValueError):
        booklet_order(0)


def test_a_back_cover_stays_the_booklets_last_page() -> None:
    """With `back_cover` the blanks go inside the back cover: for 5 pages the last (4) is
    the outside back cover, left of the front cover (0) on the first sheet."""
    assert booklet_order(5, back_cover=True) == [(4, 0), (1, None), (None, 2), (3, None)]
    assert booklet_order(4, back_cover=True) == booklet_order(4)
    for pages in range(2, 30):
        order = booklet_order(pages, back_cover=True)
        assert order[0][0] == pages - 1  # outside back cover: left of sheet 1's front
        placed = sorted(p for side in order for p in side if p is not None)
        assert placed == list(range(pages))


@pytest.mark.parametrize("pages", [4, 8, 12, 5])
def test_booklet_pages_land_in_booklet_order(tmp_path: Path, pages: int) -> None:
    out = booklet(numbered_pdf(pages, A5))
    path = write(tmp_path, f"booklet-{pages}.pdf", out)
    qpdf_check(path)
    sides = expected_sides(pages)
    assert page_sizes(out) == [LANDSCAPE] * len(sides)
    for number, (left, right) in enumerate(sides, start=1):
        found_left, found_right = halves(path, number)
        assert found_left == ([left] if left else []), (number, found_left)
        assert found_right == ([right] if right else []), (number, found_right)
    # Each input page appears exactly once, and the text is still text.
    everything = numbers(text(path, 1) + "".join(text(path, n) for n in range(2, len(sides) + 1)))
    assert sorted(everything) == list(range(1, pages + 1))


def test_booklet_scales_a4_pages_into_the_a5_halves(tmp_path: Path) -> None:
    out = booklet(numbered_pdf(4, A4))
    path = write(tmp_path, "a4.pdf", out)
    assert page_sizes(out) == [LANDSCAPE, LANDSCAPE]
    assert halves(path, 1) == ([4], [1])
    assert halves(path, 2) == ([2], [3])
    # The A4 page's text (at x=40 pt, mid-height) is scaled by 1/sqrt(2) into the half.
    reader = PdfReader(io.BytesIO(out))
    positions: list[tuple[float, float]] = []

    def visitor(text_: str, cm: list[float], tm: list[float], *_: object) -> None:
        if "PAGE 1" in text_:
            positions.append((cm[0] * tm[4] + cm[2] * tm[5] + cm[4],
                              cm[1] * tm[4] + cm[3] * tm[5] + cm[5]))

    reader.pages[0].extract_text(visitor_text=visitor)
    assert positions, "no PAGE 1 text on the first sheet"
    x, y = positions[0]
    scale = 0.5 ** 0.5
    assert x == pytest.approx(LANDSCAPE[0] / 2 + 40 * scale, abs=1.5)
    assert y == pytest.approx(A4[1] / 2 * scale, abs=1.5)


def test_booklet_of_mixed_and_rotated_pages(tmp_path: Path) -> None:
    sizes = [A5, (A5[1], A5[0]), A4, A5]
    out = booklet(numbered_pdf(4, sizes=sizes, rotate={3: 90}))
    path = write(tmp_path, "mixed.pdf", out)
    qpdf_check(path)
    assert halves(path, 1) == ([4], [1])
    assert halves(path, 2) == ([2], [3])


def test_booklet_keeps_web_links_and_retargets_internal_ones(tmp_path: Path) -> None:
    # Page 1 links to page 6; page 3 carries a web link. In a booklet of 8 pages, side 3
    # (the front of sheet 2) carries [6, 3].
    out = booklet(numbered_pdf(8, links=[(0, 5)], uri_on=2, outline=True))
    reader = PdfReader(io.BytesIO(out))
    first = reader.pages[0]  # [8, 1]
    (link,) = [a.get_object() for a in first["/Annots"]]
    assert link["/Dest"][0] == reader.pages[2].indirect_reference
    assert float(link["/Rect"][0]) >= LANDSCAPE[0] / 2  # on the right half, where page 1 is
    third = reader.pages[2]  # [6, 3]
    (web,) = [a.get_object() for a in third["/Annots"]]
    assert web["/A"]["/URI"] == "https://example.org/"
    assert float(web["/Rect"][0]) >= LANDSCAPE[0] / 2  # page 3 is the right half
    # The outline still has an entry per page, each on the sheet side that carries it.
    titles = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]
    assert titles[0] == ("Entry 1", 0)
    assert titles[5] == ("Entry 6", 2)
    assert titles[7] == ("Entry 8", 0)
    # No page of the input was dragged along as an orphan: only the 4 sheet sides exist.
    qpdf = write(tmp_path, "links.pdf", out)
    qpdf_check(qpdf)
    assert page_objects(qpdf) == 4


def test_booklet_is_deterministic() -> None:
    source = numbered_pdf(6)
    assert booklet(source) == booklet(source)


def test_two_up_handout(tmp_path: Path) -> None:
    out = n_up(numbered_pdf(5, A4), 2)
    path = write(tmp_path, "2up.pdf", out)
    qpdf_check(path)
    assert page_sizes(out) == [LANDSCAPE] * 3
    assert halves(path, 1) == ([1], [2])
    assert halves(path, 2) == ([3], [4])
    assert halves(path, 3) == ([5], [])


def test_four_up_handout(tmp_path: Path) -> None:
    out = n_up(numbered_pdf(6, A4, links=[(5, 0)]), 4)
    path = write(tmp_path, "4up.pdf", out)
    qpdf_check(path)
    assert page_sizes(out) == [PORTRAIT] * 2
    width, height = PORTRAIT

    def quarters(page: int) -> list[list[int]]:
        return [numbers(text(path, page, (x, y, width / 2, height / 2)))
                for y in (0, height / 2) for x in (0, width / 2)]

    assert quarters(1) == [[1], [2], [3], [4]]
    assert quarters(2) == [[5], [6], [], []]
    # The link on page 6 (second sheet, top right) still goes to page 1: the first sheet.
    reader = PdfReader(io.BytesIO(out))
    (link,) = [a.get_object() for a in reader.pages[1]["/Annots"]]
    assert link["/Dest"][0] == reader.pages[0].indirect_reference
    assert float(link["/Rect"][0]) > width / 2
    assert float(link["/Rect"][1]) > height / 2
    # Top of page 1 lands in the top-left quarter of sheet 1.
    assert float(link["/Dest"][3]) > height / 2
    assert float(link["/Dest"][2]) < width / 2


def test_handout_pages_are_scaled_to_fit_with_a_gutter(tmp_path: Path) -> None:
    out = n_up(numbered_pdf(2, A4), 2)
    # Frames drawn around the placed pages: both inside the sheet, with a gutter between.
    reader = PdfReader(io.BytesIO(out))
    content = reader.pages[0].get_contents()
    assert content is not None
    rects = [[float(v) for v in operands] for operands, op in content.operations if op == b"re"]
    frames = [r for r in rects if r[2] > 100 and r[3] > 100 and r[0] > 1]
    assert len(frames) >= 2
    left, right = sorted(frames)[0], sorted(frames)[-1]
    assert left[0] > 10 and right[0] + right[2] < LANDSCAPE[0] - 10
    assert right[0] - (left[0] + left[2]) > 10  # a gutter of several millimetres
    assert left[3] / left[2] == pytest.approx(A4[1] / A4[0], rel=0.01)  # proportions kept


def test_other_n_is_refused() -> None:
    with pytest.raises(ValueError, match="2-up or 4-up"):
        n_up(numbered_pdf(2), 3)


def test_sheet_content_is_compressed() -> None:
    reader = PdfReader(io.BytesIO(booklet(numbered_pdf(4))))
    for page in reader.pages:
        contents = page["/Contents"].get_object()
        streams = contents if isinstance(contents, list) else [contents]
        assert all(s.get_object().get("/Filter") == "/FlateDecode" for s in streams)
