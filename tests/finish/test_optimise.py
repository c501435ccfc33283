"""The screen/email profiles: images downsampled to the resolution they are shown at, files
smaller, text and links intact; and the size report behind the e-mail budget message."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pdf_samples import diagram, image_pdf, images_of, photo, qpdf_check, write
from PIL import Image
from pypdf import PdfReader

from briefing.finish.optimise import budget_message, megabytes, optimise_for_screen, size_report

CM = 72 / 2.54


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A WeasyPrint PDF like the ones briefing makes: a translucent PNG 8 cm wide on page 1,
    a JPEG photograph 16 cm wide on page 2, a web link."""
    import weasyprint

    folder = tmp_path_factory.mktemp("optimise")
    translucent = photo(1200, 900).convert("RGBA")
    translucent.putalpha(Image.linear_gradient("L").resize((1200, 900)))
    translucent.save(folder / "translucent.png")
    photo(1800, 1350, seed=2).save(folder / "photo.jpg", quality=95)
    html = """<html lang="en"><body>
      <p>Opening words, with <a href="https://example.org/">a link</a>.</p>
      <img src="translucent.png" style="width: 8cm">
      <p style="break-before: page">Second page.</p>
      <img src="photo.jpg" style="width: 16cm">
    </body></html>"""
    pdf: bytes = weasyprint.HTML(string=html, base_url=str(folder)).write_pdf()
    return pdf


@pytest.fixture(scope="module")
def optimised(rendered: bytes) -> bytes:
    return optimise_for_screen(rendered, dpi=150, jpeg_quality=80)


def test_weasyprint_images_are_downsampled_to_the_target_dpi(rendered: bytes,
                                                             optimised: bytes) -> None:
    before = images_of(rendered)
    after = images_of(optimised)
    assert [(w, h) for w, h, _, _ in before] == [(1200, 900), (1800, 1350)]
    # 8 cm at 150 dpi is 472 px, 16 cm is 945 px (±2 for rounding)
    (w1, h1, _, _), (w2, h2, _, _) = after
    assert abs(w1 - 8 / 2.54 * 150) <= 2 and abs(h1 - 6 / 2.54 * 150) <= 2
    assert abs(w2 - 16 / 2.54 * 150) <= 2 and abs(h2 - 12 / 2.54 * 150) <= 2
    assert len(optimised) < len(rendered) / 5


def test_transparency_text_and_links_survive(optimised: bytes, tmp_path: Path) -> None:
    path = write(tmp_path, "screen.pdf", optimised)
    qpdf_check(path)
    reader = PdfReader(io.BytesIO(optimised))
    assert "Opening words" in reader.pages[0].extract_text()
    assert "Second page" in reader.pages[1].extract_text()
    (link,) = [a.get_object() for a in reader.pages[0]["/Annots"]]
    assert link["/A"]["/URI"] == "https://example.org/"
    images = [ref.get_object() for ref in reader.pages[0]["/Resources"]["/XObject"].values()
              if ref.get_object().get("/Subtype") == "/Image"]
    masked = [img for img in images if "/SMask" in img]
    assert masked, "the translucent image lost its soft mask"
    mask = masked[0]["/SMask"].get_object()
    assert (mask["/Width"], mask["/Height"]) == (masked[0]["/Width"], masked[0]["/Height"])


def test_downsampled_images_look_the_same(rendered: bytes, optimised: bytes,
                                          tmp_path: Path) -> None:
    """Rendered at 40 dpi, the optimised page is all but identical to the original."""
    import subprocess

    from PIL import ImageChops, ImageStat

    for name, pdf in (("before", rendered), ("after", optimised)):
        write(tmp_path, f"{name}.pdf", pdf)
        subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1",
                        str(tmp_path / f"{name}.pdf"), str(tmp_path / name)], check=True)
    before = Image.open(next(tmp_path.glob("before*.png"))).convert("RGB")
    after = Image.open(next(tmp_path.glob("after*.png"))).convert("RGB")
    difference = ImageStat.Stat(ImageChops.difference(before, after)).mean
    assert max(difference) < 2  # of 255


def test_resolution_follows_the_largest_use_and_forms() -> None:
    picture = photo(1600, 1200)
    # The same image as a 2-inch thumbnail on page 1 and 4 inches wide on page 2: 4 inches
    # at 150 dpi need 600 px.
    shared = image_pdf([(0, picture, (50, 600, 144, 108)), (1, picture, (50, 400, 288, 216))],
                       pages=2)
    ((width, height, _, _),) = images_of(optimise_for_screen(shared))
    assert (width, height) == (600, 450)
    # Drawn 400 pt wide inside a form scaled by 0.5: shown 200 pt (2.78 in) wide → 417 px.
    formed = image_pdf([(0, picture, (50, 50, 400, 300))], form_scale=0.5)
    ((width, _, _, _),) = images_of(optimise_for_screen(formed))
    assert width == pytest.approx(200 / 72 * 150, abs=2)


def test_sharp_enough_images_are_left_alone() -> None:
    # 1000 px over 5 inches is 200 dpi: under 1.5 × 150, so the JPEG is kept as it is.
    source = image_pdf([(0, photo(1000, 750), (50, 300, 360, 270))])
    assert images_of(optimise_for_screen(source)) == images_of(source)


def test_flat_art_stays_lossless_and_photos_become_jpeg() -> None:
    source = image_pdf([(0, diagram(1200, 900), (50, 450, 288, 216)),
                        (0, photo(1200, 900), (50, 100, 288, 216))], jpeg=False)
    optimised = optimise_for_screen(source)
    art, picture = images_of(optimised)
    assert art[:3] == (600, 450, "/FlateDecode")
    assert picture[:3] == (600, 450, "/DCTDecode")
    # The art is exactly the resampled original: no JPEG ringing.
    reader = PdfReader(io.BytesIO(optimised))
    decoded = [i.image for i in reader.pages[0].images if i.image is not None]
    expected = diagram(1200, 900).resize((600, 450), Image.Resampling.LANCZOS)
    assert any(d.convert("RGB").tobytes() == expected.tobytes() for d in decoded)


def test_optimising_is_deterministic_and_never_grows_a_file() -> None:
    source = image_pdf([(0, photo(1200, 900), (50, 300, 200, 150))])
    once = optimise_for_screen(source)
    assert once == optimise_for_screen(source)
    text_only = image_pdf([], pages=2)
    assert len(optimise_for_screen(text_only)) <= len(text_only) + 64


def test_size_report_names_the_largest_contributors(rendered: bytes, optimised: bytes) -> None:
    report = size_report(rendered)
    what = [name for name, _ in report]
    assert what[0].startswith("image ") and "on page 1, 1200×900 px" in what[0]
    assert "on page 2, 1800×1350 px" in what[1]
    assert any(name.startswith("font ") and "+" not in name for name in what)
    assert [size for _, size in report] == sorted((size for _, size in report), reverse=True)
    image_bytes = sum(size for name, size in report if name.startswith("image "))
    assert image_bytes > 0.8 * len(rendered)  # they really are what makes the file big
    assert sum(s for n, s in size_report(optimised) if n.startswith("image ")) < image_bytes / 5


def test_budget_message() -> None:
    report = [("image Im3 on page 2, 3000×2000 px", 4_300_000), ("font NotoSerif", 307_200),
              ("page content (text and drawings)", 20_000)]
    message = budget_message("out/x.pdf", 7_550_000, 5 * 1024 * 1024, report)
    assert message == (
        "out/x.pdf is 7.2 MB, over the 5.0 MB e-mail budget; largest: image Im3 on page 2, "
        "3000×2000 px (4.1 MB), font NotoSerif (300 KB), page content (text and drawings) "
        "(20 KB)")
    assert megabytes(10) == "1 KB"


def test_uncompressed_page_content_is_compressed(tmp_path: Path) -> None:
    from pdf_samples import numbered_pdf, numbers, text

    source = numbered_pdf(3)  # its content streams are written without a filter
    out = optimise_for_screen(source)
    reader = PdfReader(io.BytesIO(out))
    for page in reader.pages:
        contents = page["/Contents"].get_object()
        streams = contents if isinstance(contents, list) else [contents]
        assert all(s.get_object().get("/Filter") == "/FlateDecode" for s in streams)
    path = write(tmp_path, "compressed.pdf", out)
    assert [numbers(text(path, n)) for n in (1, 2, 3)] == [[1], [2], [3]]
