"""The print profile's page work: bleed and crop marks, and blank pages for duplex printing,
checked on the produced PDF (boxes, drawn lines, rendered pixels, links, labels)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from pdf_samples import A4, A5, numbered_pdf, numbers, qpdf_check, text, write
from PIL import Image
from pypdf import PdfReader

from briefing.finish.prepress import duplex_blanks, pad_for_duplex, print_marks

MM = 72 / 25.4


def box(page: object, name: str) -> list[float]:
    return [round(float(v), 2) for v in page[name]]  # type: ignore[index]


@pytest.fixture(scope="module")
def marked() -> bytes:
    return print_marks(numbered_pdf(3, A4, links=[(0, 2)], uri_on=1, outline=True, labels=True))


def test_boxes(marked: bytes) -> None:
    reader = PdfReader(io.BytesIO(marked))
    w, h = A4
    b = 3 * MM
    for page in reader.pages:
        assert box(page, "/TrimBox") == [0, 0, round(w, 2), round(h, 2)]
        assert box(page, "/BleedBox") == [round(-b, 2), round(-b, 2), round(w + b, 2),
                                          round(h + b, 2)]
        media = box(page, "/MediaBox")
        assert media == [round(-13 * MM, 2), round(-13 * MM, 2), round(w + 13 * MM, 2),
                         round(h + 13 * MM, 2)]
        assert box(page, "/CropBox") == media


def test_crop_marks_are_drawn_outside_the_bleed(marked: bytes, tmp_path: Path) -> None:
    reader = PdfReader(io.BytesIO(marked))
    w, h = A4
    bleed = 3 * MM
    content = reader.pages[0].get_contents()
    assert content is not None
    ops = content.operations
    segments = [
        ([float(v) for v in ops[i][0]], [float(v) for v in ops[i + 1][0]])
        for i in range(len(ops) - 1) if ops[i][1] == b"m" and ops[i + 1][1] == b"l"
    ]
    assert len(segments) == 8  # two marks at each of four corners
    for (x1, y1), (x2, y2) in segments:
        assert x1 == x2 or y1 == y2  # horizontal or vertical
        if y1 == y2:  # horizontal: on a trim edge, outside the bleed left or right
            assert round(y1, 2) in (0, round(h, 2))
            assert min(x1, x2) >= w + bleed - 0.01 or max(x1, x2) <= -bleed + 0.01
        else:
            assert round(x1, 2) in (0, round(w, 2))
            assert min(y1, y2) >= h + bleed - 0.01 or max(y1, y2) <= -bleed + 0.01
    assert any(op == b"SCN" for _, op in ops)  # stroked in the registration colour
    assert "/BriefingRegistration" in reader.pages[0]["/Resources"]["/ColorSpace"]
    # Rendered: the marks show at the corner, and nothing is drawn inside the bleed there.
    path = write(tmp_path, "marked.pdf", marked)
    qpdf_check(path)
    subprocess.run(["pdftoppm", "-r", "72", "-gray", "-f", "1", "-l", "1", "-png", str(path),
                    str(tmp_path / "page")], check=True)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    origin = 13 * MM  # the trim's lower-left corner, from the media's lower-left
    height = image.height
    # A horizontal mark along the bottom trim edge, left of the bleed: 3..9 mm from the trim.
    mark = (round(origin - 6 * MM), round(height - origin))
    inside_bleed = (round(origin - 1.5 * MM), round(height - origin + 1.5 * MM))
    assert min(image.getpixel((mark[0], y)) for y in range(mark[1] - 1, mark[1] + 2)) < 128
    assert image.getpixel(inside_bleed) > 250


def test_marked_pages_keep_text_links_outline_labels(marked: bytes, tmp_path: Path) -> None:
    path = write(tmp_path, "marked.pdf", marked)
    assert [numbers(text(path, n)) for n in (1, 2, 3)] == [[1], [2], [3]]
    reader = PdfReader(io.BytesIO(marked))
    (link,) = [a.get_object() for a in reader.pages[0]["/Annots"]]
    dest = link["/Dest"]
    assert dest[0] == reader.pages[2].indirect_reference
    (web,) = [a.get_object() for a in reader.pages[1]["/Annots"]]
    assert web["/A"]["/URI"] == "https://example.org/"
    assert [reader.get_destination_page_number(o) for o in reader.outline] == [0, 1, 2]
    assert reader.page_labels == ["i", "ii", "1"]


def test_marks_need_room() -> None:
    with pytest.raises(ValueError, match="no room"):
        print_marks(numbered_pdf(1), marks_mm=2)


def test_a_designed_trim_box_is_kept(tmp_path: Path) -> None:
    # A page that already has a TrimBox (WeasyPrint writes one when the theme sets a bleed)
    # is trimmed there, and its existing media is not cut.
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, RectangleObject

    writer = PdfWriter(clone_from=io.BytesIO(numbered_pdf(1, A5)))
    writer.pages[0][NameObject("/TrimBox")] = RectangleObject([10, 10, A5[0] - 10, A5[1] - 10])
    buffer = io.BytesIO()
    writer.write(buffer)
    reader = PdfReader(io.BytesIO(print_marks(buffer.getvalue())))
    page = reader.pages[0]
    assert box(page, "/TrimBox") == [10, 10, round(A5[0] - 10, 2), round(A5[1] - 10, 2)]
    assert box(page, "/BleedBox")[0] == round(10 - 3 * MM, 2)


def test_duplex_blanks_rule() -> None:
    assert duplex_blanks(6, [0, 3, 4]) == [3, 4]
    assert duplex_blanks(6, [0, 2, 4]) == []
    assert duplex_blanks(6, [1]) == [1]
    assert duplex_blanks(9, [5, 0, 3, 3]) == [3]  # 0 stays, 3 → 4 needs one, 5 → 6 is right
    with pytest.raises(ValueError):
        duplex_blanks(3, [3])


def test_pad_for_duplex(tmp_path: Path) -> None:
    # Documents start at pages 1, 4 and 5 (indexes 0, 3, 4); page 1 links to page 5, page 6
    # to page 2. Expected: 1 2 3 [blank] 4 [blank] 5 6.
    source = numbered_pdf(6, A4, links=[(0, 4), (5, 1)], outline=True, labels=True)
    padded = pad_for_duplex(source, [0, 3, 4])
    path = write(tmp_path, "padded.pdf", padded)
    qpdf_check(path)
    reader = PdfReader(io.BytesIO(padded))
    assert len(reader.pages) == 8
    found = [numbers(text(path, n)) for n in range(1, 9)]
    assert found == [[1], [2], [3], [], [4], [], [5], [6]]
    for index in (3, 5):  # the blanks: nothing drawn, the size of the page before
        assert reader.pages[index].get_contents() is None or not reader.pages[index].get_contents(
        ).operations  # type: ignore[union-attr]
        assert box(reader.pages[index], "/MediaBox") == box(reader.pages[index - 1],
                                                            "/MediaBox")
    # The links still land on the page that says what they pointed to.
    by_text = {numbers(text(path, n + 1))[0]: reader.pages[n].indirect_reference
               for n in range(8) if numbers(text(path, n + 1))}
    (link,) = [a.get_object() for a in reader.pages[0]["/Annots"]]
    assert link["/Dest"][0] == by_text[5]
    (link,) = [a.get_object() for a in reader.pages[7]["/Annots"]]
    assert link["/Dest"][0] == by_text[2]
    # The outline too, and every original page keeps its label.
    outline = [reader.get_destination_page_number(o) for o in reader.outline]
    assert outline == [0, 1, 2, 4, 6, 7]
    assert reader.page_labels == ["i", "ii", "1", "blank", "2", "blank", "3", "4"]


def test_pad_for_duplex_without_labels_numbers_the_original_pages(tmp_path: Path) -> None:
    padded = pad_for_duplex(numbered_pdf(3), [1])
    reader = PdfReader(io.BytesIO(padded))
    assert reader.page_labels == ["1", "blank", "2", "3"]


def test_pad_then_mark(tmp_path: Path) -> None:
    # The print profile's order: pad first, so the blanks get crop marks too.
    out = print_marks(pad_for_duplex(numbered_pdf(3, A4), [1]))
    path = write(tmp_path, "both.pdf", out)
    qpdf_check(path)
    reader = PdfReader(io.BytesIO(out))
    assert len(reader.pages) == 4
    assert all(box(p, "/TrimBox") == [0, 0, round(A4[0], 2), round(A4[1], 2)]
               for p in reader.pages)
    assert [numbers(text(path, n)) for n in range(1, 5)] == [[1], [], [2], [3]]


def test_nothing_to_pad_returns_the_input() -> None:
    source = numbered_pdf(4)
    assert pad_for_duplex(source, [0, 2]) == source
