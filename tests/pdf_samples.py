"""Tiny PDFs for the profile tests, written with pypdf: each page says "PAGE n" in Helvetica,
optionally with links, an outline and page labels. No rendering, so they cost milliseconds."""

from __future__ import annotations

import io
import json
import re
import subprocess
import zlib
from collections.abc import Sequence
from pathlib import Path

from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    Fit,
    FloatObject,
    NameObject,
    NullObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

MM = 72 / 25.4
A4 = (210 * MM, 297 * MM)
A5 = (148 * MM, 210 * MM)


def numbered_pdf(
    count: int,
    size: tuple[float, float] = A5,
    *,
    sizes: Sequence[tuple[float, float]] | None = None,
    links: Sequence[tuple[int, int]] = (),
    uri_on: int | None = None,
    outline: bool = False,
    labels: bool = False,
    rotate: dict[int, int] | None = None,
) -> bytes:
    """`count` pages saying "PAGE 1", "PAGE 2", …; `links` are (from, to) page indexes, each a
    link annotation with an explicit /Dest near the top of the target page; `uri_on` puts a
    web link on that page; `outline` adds one entry per page; `labels` numbers the pages
    "i, ii, 1, 2, …" (two roman front pages)."""
    writer = PdfWriter()
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    })
    font_ref = writer._add_object(font)
    for index in range(count):
        width, height = sizes[index] if sizes else size
        page = writer.add_blank_page(width, height)
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref}),
        })
        stream = DecodedStreamObject()
        stream.set_data(
            f"BT /F1 24 Tf 40 {height / 2:.2f} Td (PAGE {index + 1}) Tj ET\n".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
        if rotate and index in rotate:
            page.rotate(rotate[index])
    for source, target in links:
        target_page = writer.pages[target]
        link = DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (40, 40, 140, 60)]),
            NameObject("/Dest"): ArrayObject([
                target_page.indirect_reference, NameObject("/XYZ"), FloatObject(40),
                FloatObject(float(target_page.mediabox.top) - 20), NullObject()]),
        })
        _annotate(writer, source, link)
    if uri_on is not None:
        link = DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (40, 80, 140, 100)]),
            NameObject("/A"): DictionaryObject({
                NameObject("/S"): NameObject("/URI"),
                NameObject("/URI"): TextStringObject("https://example.org/"),
            }),
        })
        _annotate(writer, uri_on, link)
    if outline:
        for index in range(count):
            writer.add_outline_item(title=f"Entry {index + 1}", page_number=index,
                                    fit=Fit.xyz(0, 100))
    if labels and count > 2:
        writer.set_page_label(0, 1, style="/r")
        writer.set_page_label(2, count - 1, style="/D", start=1)
    writer._ID = ArrayObject([TextStringObject("0123456789abcdef")] * 2)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _annotate(writer: PdfWriter, index: int, link: DictionaryObject) -> None:
    page = writer.pages[index]
    ref = writer._add_object(link)
    if "/Annots" not in page:
        page[NameObject("/Annots")] = ArrayObject()
    page["/Annots"].append(ref)  # type: ignore[attr-defined]


def write(tmp_path: Path, name: str, pdf: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


def text(path: Path, page: int, box: tuple[float, float, float, float] | None = None) -> str:
    """pdftotext of one page (1-based), optionally of a crop box x, y, w, h in points from the
    top-left corner."""
    args = ["pdftotext", "-q", "-enc", "UTF-8", "-f", str(page), "-l", str(page)]
    if box is not None:
        x, y, w, h = box
        args += ["-x", str(round(x)), "-y", str(round(y)), "-W", str(round(w)), "-H",
                 str(round(h))]
    return subprocess.run([*args, str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def numbers(found: str) -> list[int]:
    """The page numbers a text mentions as "PAGE n", in order."""
    return [int(n) for n in re.findall(r"PAGE (\d+)", found)]


def qpdf_check(path: Path) -> None:
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def page_objects(path: Path) -> int:
    """How many page dictionaries the file holds, in the page tree or not (an orphan page
    dragged along by a link would count)."""
    result = subprocess.run(["qpdf", "--json=2", "--json-key=qpdf", str(path)],
                            check=True, capture_output=True, text=True)
    objects = json.loads(result.stdout)["qpdf"][1]
    return sum(1 for obj in objects.values()
               if isinstance(obj.get("value"), dict) and obj["value"].get("/Type") == "/Page")


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    reader = PdfReader(io.BytesIO(pdf))
    return [(round(float(p.mediabox.width), 1), round(float(p.mediabox.height), 1))
            for p in reader.pages]


def photo(width: int, height: int, seed: int = 1) -> Image.Image:
    """A photograph-like RGB image: smooth gradients with grain (JPEG's home ground)."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40).point(lambda v: v // 3)
    red = Image.blend(gradient, noise, 0.3)
    green = gradient.rotate(90 + seed).resize((width, height))
    blue = Image.blend(noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 0.6)
    return Image.merge("RGB", (red, green, blue))


def diagram(width: int, height: int) -> Image.Image:
    """Flat-colour art: a few solid rectangles (lossless compression's home ground)."""
    image = Image.new("RGB", (width, height), "white")
    for i, colour in enumerate(("#c00", "#0a0", "#00c", "#fc0")):
        image.paste(colour, (i * width // 5, height // 4, (i + 1) * width // 5, height // 2))
    return image


def image_pdf(placements: Sequence[tuple[int, Image.Image, tuple[float, float, float, float]]],
              pages: int = 1, *, jpeg: bool = True, form_scale: float | None = None,
              text_on_pages: bool = True) -> bytes:
    """A PDF of `pages` A4 pages drawing images: each placement is (page index, image, (x, y,
    w, h) in points). An image object is shared when the same Image is placed twice. With
    `form_scale`, images are drawn inside a form XObject whose /Matrix scales by it (and the
    placement is given in the form's space)."""
    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    }))
    refs: dict[int, object] = {}
    streams: list[list[str]] = [[] for _ in range(pages)]
    names: list[dict[str, object]] = [{} for _ in range(pages)]
    for page, image, (x, y, w, h) in placements:
        if id(image) not in refs:
            refs[id(image)] = writer._add_object(_image_xobject(image, jpeg))
        name = f"/Im{len(refs)}"
        names[page][name] = refs[id(image)]
        streams[page].append(f"q {w:.3f} 0 0 {h:.3f} {x:.3f} {y:.3f} cm {name} Do Q")
    for index in range(pages):
        page = writer.add_blank_page(*A4)
        xobjects = DictionaryObject({NameObject(k): v for k, v in names[index].items()})
        body = "\n".join(streams[index])
        if form_scale is not None and body:
            form = DecodedStreamObject()
            form.set_data(body.encode())
            form.update({
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject([FloatObject(v) for v in (0, 0, 2000, 2000)]),
                NameObject("/Matrix"): ArrayObject([FloatObject(v) for v in (
                    form_scale, 0, 0, form_scale, 0, 0)]),
                NameObject("/Resources"): DictionaryObject({NameObject("/XObject"): xobjects}),
            })
            xobjects = DictionaryObject({NameObject("/Fm1"): writer._add_object(form)})
            body = "q /Fm1 Do Q"
        if text_on_pages:
            body += f"\nBT /F1 12 Tf 40 40 Td (PAGE {index + 1}) Tj ET"
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/XObject"): xobjects,
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): font}),
        })
        stream = DecodedStreamObject()
        stream.set_data(body.encode())
        page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _image_xobject(image: Image.Image, jpeg: bool) -> StreamObject:
    buffer = io.BytesIO()
    if jpeg:
        image.save(buffer, "JPEG", quality=95)
        data, filter_ = buffer.getvalue(), "/DCTDecode"
    else:
        data, filter_ = zlib.compress(image.tobytes(), 6), "/FlateDecode"
    return StreamObject.initialize_from_dictionary({
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Image"),
        NameObject("/Width"): NumberObject(image.width),
        NameObject("/Height"): NumberObject(image.height),
        NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
        NameObject("/BitsPerComponent"): NumberObject(8),
        NameObject("/Filter"): NameObject(filter_),
        "__streamdata__": data,
    })


def images_of(pdf: bytes) -> list[tuple[int, int, str, int]]:
    """Every image XObject of the file (each once): width, height, filter, stored bytes."""
    reader = PdfReader(io.BytesIO(pdf))
    found: dict[int, tuple[int, int, str, int]] = {}

    def visit(resources: object) -> None:
        if not isinstance(resources, dict) or "/XObject" not in resources:
            return
        for ref in resources["/XObject"].get_object().values():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                found[ref.idnum] = (int(obj["/Width"]), int(obj["/Height"]), str(obj["/Filter"]),
                                    len(obj._data))
            elif obj.get("/Subtype") == "/Form" and "/Resources" in obj:
                visit(obj["/Resources"].get_object())

    for page in reader.pages:
        visit(page["/Resources"].get_object())
    return [found[k] for k in sorted(found)]
