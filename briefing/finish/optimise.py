"""The `screen` and `email` profiles' work: smaller files that look the same on a screen.

`optimise_for_screen` downsamples raster images drawn at more than the target resolution and
recompresses them, then shares identical objects. The resolution an image needs is worked out
from where the page actually draws it (the current transformation matrix at each `Do`,
through form XObjects), so a photo shown as a thumbnail is reduced more than the same photo
shown full width. Page content left uncompressed (pypdf's page merging does that) is
compressed. Text, vector art, links, outline and labels are untouched; fonts are already
subset by WeasyPrint.

`size_report` says what makes a PDF big (images by name and page, fonts by name), for the
e-mail budget's error message.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from PIL import Image
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from briefing.assemble.pdfio import read, to_bytes

THRESHOLD = 1.5
"""An image is downsampled only when it has this many times more pixels per inch than the
target: resampling an image that is only a little too sharp costs quality for little gain."""
MAX_DEPTH = 12
"""How deeply form XObjects may nest before we stop looking inside."""

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass
class _Use:
    """Where an image is drawn: the page and image key pypdf knows it by, and the largest size
    (in points) it is drawn at."""

    page: int
    key: str | list[str]
    width_pt: float = 0.0
    height_pt: float = 0.0


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    """m then n (PDF's row-vector convention: the result is m × n)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def _matrix(values: object) -> Matrix | None:
    try:
        numbers = [float(cast(float, v)) for v in cast(list[object], values)]
    except (TypeError, ValueError):
        return None
    return cast(Matrix, tuple(numbers)) if len(numbers) == 6 else None


def image_uses(writer: PdfWriter | PdfReader) -> dict[int, _Use]:
    """For each image XObject (by object number): where it is first drawn and the largest size
    it is drawn at, from the content streams of the pages and the forms they draw."""
    uses: dict[int, _Use] = {}
    for index, page in enumerate(writer.pages):
        resources = page.get("/Resources")
        table = cast(DictionaryObject | None, resources.get_object() if resources else None)
        if not _may_draw_images(table, 0):
            continue  # parsing a content stream is the expensive part: only where it matters
        content = page.get_contents()
        if content is None:
            continue
        _walk(content, table, IDENTITY, (), index, uses, writer, 0)
    return uses


def _may_draw_images(resources: DictionaryObject | None, depth: int) -> bool:
    """Whether these resources hold an image, directly or through the forms they hold."""
    table = resources.get("/XObject") if resources is not None else None
    if table is None:
        return False
    for ref in cast(DictionaryObject, table.get_object()).values():
        obj = ref.get_object()
        if not isinstance(obj, StreamObject):
            continue
        if obj.get("/Subtype") == "/Image":
            return True
        inner = obj.get("/Resources")
        if obj.get("/Subtype") == "/Form" and depth < MAX_DEPTH and _may_draw_images(
            cast(DictionaryObject, inner.get_object()) if inner else None, depth + 1
        ):
            return True
    return False


def _walk(content: ContentStream, resources: DictionaryObject | None, ctm: Matrix,
          path: tuple[str, ...], page: int, uses: dict[int, _Use],
          pdf: PdfWriter | PdfReader, depth: int) -> None:
    stack: list[Matrix] = []
    table = resources.get("/XObject") if resources is not None else None
    xobjects = cast(DictionaryObject, table.get_object()) if table is not None else None
    for operands, operator in content.operations:
        if operator == b"q":
            stack.append(ctm)
        elif operator == b"Q":
            ctm = stack.pop() if stack else ctm
        elif operator == b"cm":
            m = _matrix(operands)
            if m is not None:
                ctm = _multiply(m, ctm)
        elif operator == b"Do" and xobjects is not None and operands:
            name = str(operands[0])
            ref = xobjects.raw_get(name) if name in xobjects else None
            if not isinstance(ref, IndirectObject):
                continue
            obj = ref.get_object()
            if not isinstance(obj, StreamObject):
                continue
            if obj.get("/Subtype") == "/Image":
                width = math.hypot(ctm[0], ctm[1])
                height = math.hypot(ctm[2], ctm[3])
                key: str | list[str] = [*path, name] if path else name
                use = uses.setdefault(ref.idnum, _Use(page, key))
                use.width_pt = max(use.width_pt, width)
                use.height_pt = max(use.height_pt, height)
            elif obj.get("/Subtype") == "/Form" and depth < MAX_DEPTH:
                matrix = _matrix(obj.get("/Matrix", IDENTITY)) or IDENTITY
                inner = obj.get("/Resources")
                _walk(ContentStream(obj, pdf),
                      cast(DictionaryObject, inner.get_object()) if inner else resources,
                      _multiply(matrix, ctm), (*path, name), page, uses, pdf, depth + 1)


def optimise_for_screen(pdf: bytes, dpi: int = 150, jpeg_quality: int = 80) -> bytes:
    """Downsample images drawn at more than `dpi` (by more than THRESHOLD times) to `dpi`,
    recompress them (JPEG at `jpeg_quality` for photographs, lossless for flat-colour art,
    whichever the image is), keep an image's transparency, and share identical objects.
    An image that cannot be made smaller is left as it was, and a file with nothing to do
    (no images, content already compressed: what assemble writes) is returned as it is."""
    reader = read(pdf)
    if not image_uses(reader) and not any(
        "/Filter" not in cast(StreamObject, c.get_object())
        for page in reader.pages for c in _contents(page)
    ):
        return pdf
    writer = PdfWriter(clone_from=reader)
    for idnum, use in sorted(image_uses(writer).items()):
        ref = IndirectObject(idnum, 0, writer)
        original = cast(StreamObject, ref.get_object())
        if not _candidate(original):
            continue
        pixels_w, pixels_h = int(cast(int, original["/Width"])), int(cast(int, original["/Height"]))
        needed_w = use.width_pt / 72 * dpi
        needed_h = use.height_pt / 72 * dpi
        factor = max(needed_w / pixels_w, needed_h / pixels_h)
        downsample = factor * THRESHOLD < 1
        lossless = _filter(original) not in ("/DCTDecode", "/JPXDecode")
        if not downsample and not lossless:
            continue  # an adequately sized JPEG: recompressing would only lose quality
        image = _decode(writer, use, original)
        if image is None:
            continue
        if downsample:
            size = (max(1, round(pixels_w * factor)), max(1, round(pixels_h * factor)))
            image = image.resize(size, Image.Resampling.LANCZOS)
        replacement = _encode(writer, image, original, jpeg_quality, lossless)
        if replacement is None:
            continue
        stream, total = replacement
        if total < _stored_size(original) + _stored_size(_smask(original)):
            writer._replace_object(ref, stream)
    for page in writer.pages:
        if any("/Filter" not in cast(StreamObject, c.get_object()) for c in _contents(page)):
            page.compress_content_streams(level=9)  # e.g. left uncompressed by a page merge
    return to_bytes(writer)


def _decode(writer: PdfWriter, use: _Use, obj: StreamObject) -> Image.Image | None:
    """The image's pixels, its soft mask as alpha. PNG-like data (Flate with PNG predictors,
    which is how WeasyPrint embeds PNG files) is decoded by Pillow, many times faster than
    pypdf's pure-Python predictor decoding; anything else goes through pypdf."""
    image = _png_like(obj)
    if image is not None:
        mask = _smask(obj)
        if mask is None:
            return image
        alpha = _png_like(mask)
        if alpha is not None and alpha.mode == "L":
            if alpha.size != image.size:
                alpha = alpha.resize(image.size, Image.Resampling.LANCZOS)
            image = image.convert("RGBA" if image.mode == "RGB" else "LA")
            image.putalpha(alpha)
            return image
    try:
        return writer.pages[use.page].images[use.key].image
    except Exception:  # pypdf raises many kinds of error on odd images: leave them be
        return None


def _png_like(obj: StreamObject) -> Image.Image | None:
    """A Flate image stream with PNG row predictors, 8-bit grey or RGB, read as the PNG file
    it already is inside (a header and the stream's data as IDAT); None for anything else."""
    parms = obj.get("/DecodeParms")
    parms = parms.get_object() if parms is not None else None
    space = obj.get("/ColorSpace")
    space = space.get_object() if space is not None else None
    channels = {"/DeviceGray": 1, "/DeviceRGB": 3}.get(str(space)) if isinstance(
        space, NameObject) else None
    if isinstance(space, ArrayObject) and len(space) == 2 and str(space[0]) == "/ICCBased":
        profile = space[1].get_object()
        channels = int(cast(int, profile.get("/N", 0))) if isinstance(profile, StreamObject) \
            else None
    if (obj.get("/Filter") != "/FlateDecode" or not isinstance(parms, DictionaryObject)
            or channels not in (1, 3)
            or int(cast(int, parms.get("/Predictor", 1))) < 10
            or int(cast(int, parms.get("/Colors", 1))) != channels
            or int(cast(int, parms.get("/BitsPerComponent", 8))) != 8
            or int(cast(int, obj.get("/BitsPerComponent", 8))) != 8):
        return None
    width, height = int(cast(int, obj["/Width"])), int(cast(int, obj["/Height"]))
    if int(cast(int, parms.get("/Columns", 1))) != width:
        return None

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0 if channels == 1 else 2, 0, 0, 0)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", obj._data)
           + chunk(b"IEND", b""))
    try:
        image = Image.open(io.BytesIO(png))
        image.load()
    except (OSError, ValueError, SyntaxError):
        return None
    return image


def _filter(obj: StreamObject) -> str | None:
    filters = obj.get("/Filter")
    if filters is None:
        return None
    filters = filters.get_object()
    if isinstance(filters, ArrayObject):
        return str(filters[-1]) if filters else None
    return str(filters)


def _candidate(obj: StreamObject) -> bool:
    """Images we can re-encode faithfully: 8-bit samples (or palette), no stencil or colour-key
    mask, no decode array; everything else is left alone."""
    if obj.get("/ImageMask") or "/Mask" in obj or "/Decode" in obj:
        return False
    if int(cast(int, obj.get("/BitsPerComponent", 8))) != 8:
        space = obj.get("/ColorSpace")
        indexed = space is not None and isinstance(space.get_object(), ArrayObject) and str(
            cast(ArrayObject, space.get_object())[0]) == "/Indexed"
        if not indexed:
            return False
    return int(cast(int, obj.get("/Width", 0))) * int(cast(int, obj.get("/Height", 0))) >= 64


def _smask(obj: StreamObject) -> StreamObject | None:
    mask = obj.get("/SMask")
    found = mask.get_object() if mask is not None else None
    return found if isinstance(found, StreamObject) else None


def _stored_size(obj: PdfObject | None) -> int:
    """The bytes a stream takes in the file (its encoded data)."""
    if not isinstance(obj, StreamObject):
        return 0
    length = obj.get("/Length")
    if length is not None:
        try:
            return int(cast(int, length.get_object()))
        except (TypeError, ValueError):
            pass
    return len(obj._data)


def _png_idat(image: Image.Image, level: int = 6) -> bytes:
    """The zlib data of a PNG (PNG row filters included): a PDF Flate stream with the PNG
    predictor says exactly the same, so flat-colour art compresses as well as in a PNG file."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=level)
    data = buffer.getvalue()
    position, chunks = 8, []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        if kind == b"IDAT":
            chunks.append(data[position + 8:position + 8 + length])
        position += 12 + length
    return b"".join(chunks)


def _flate_image(image: Image.Image) -> tuple[bytes, DictionaryObject]:
    colors = len(image.getbands())
    parms = DictionaryObject({
        NameObject("/Predictor"): NumberObject(15),
        NameObject("/Colors"): NumberObject(colors),
        NameObject("/BitsPerComponent"): NumberObject(8),
        NameObject("/Columns"): NumberObject(image.width),
    })
    return _png_idat(image), parms


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def _image_stream(image: Image.Image, data: bytes, filter_: str,
                  parms: DictionaryObject | None, space: PdfObject) -> StreamObject:
    entries: dict[str, object] = {
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Image"),
        NameObject("/Width"): NumberObject(image.width),
        NameObject("/Height"): NumberObject(image.height),
        NameObject("/ColorSpace"): space,
        NameObject("/BitsPerComponent"): NumberObject(8),
        NameObject("/Filter"): NameObject(filter_),
        "__streamdata__": data,
    }
    if parms is not None:
        entries[NameObject("/DecodeParms")] = parms
    return StreamObject.initialize_from_dictionary(entries)


def _encode(writer: PdfWriter, image: Image.Image, original: StreamObject, quality: int,
            lossless: bool) -> tuple[StreamObject, int] | None:
    """The image as a new XObject (and soft mask), with its size in the file; None when its
    pixel format is not one we re-encode."""
    alpha: Image.Image | None = None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in
                                                image.info):
        image = image.convert("RGBA" if image.mode != "LA" else "LA")
        alpha = image.getchannel("A")
        if alpha.getextrema() == (255, 255):
            alpha = None
        image = image.convert("RGB" if image.mode == "RGBA" else "L")
    if image.mode == "CMYK":
        return None  # Adobe's inverted CMYK JPEGs make a conversion guesswork: keep it
    if image.mode in ("P", "YCbCr"):
        image = image.convert("RGB")
    if image.mode not in ("RGB", "L"):
        return None
    space = _colour_space(original, image.mode)
    jpeg = _jpeg(image, quality)
    # Keep lossless art lossless unless a JPEG is much smaller (then it is a photograph); a
    # quick, light compression tells photographs apart cheaply.
    flate_data, parms = b"", None
    if lossless and len(_png_idat(image, level=1)) <= 3 * len(jpeg):
        flate_data, parms = _flate_image(image)
    if flate_data and len(flate_data) <= 2 * len(jpeg):
        stream = _image_stream(image, flate_data, "/FlateDecode", parms, space)
        total = len(flate_data)
    else:
        stream = _image_stream(image, jpeg, "/DCTDecode", None, space)
        total = len(jpeg)
    for key in ("/Interpolate", "/Intent", "/OC", "/StructParent", "/Metadata"):
        if key in original:
            stream[NameObject(key)] = original.raw_get(key)
    if alpha is not None:
        mask_data, mask_parms = _flate_image(alpha)
        mask = _image_stream(alpha, mask_data, "/FlateDecode", mask_parms,
                             NameObject("/DeviceGray"))
        stream[NameObject("/SMask")] = writer._add_object(mask)
        total += len(mask_data)
    return stream, total


def _colour_space(original: StreamObject, mode: str) -> PdfObject:
    """The original ICC-based colour space when it still fits the samples, else the device
    space of the same number of channels."""
    space = original.raw_get("/ColorSpace") if "/ColorSpace" in original else None
    resolved = space.get_object() if space is not None else None
    channels = 3 if mode == "RGB" else 1
    if isinstance(resolved, ArrayObject) and len(resolved) == 2 and str(resolved[0]) == "/ICCBased":
        profile = resolved[1].get_object()
        if isinstance(profile, StreamObject) and int(cast(int, profile.get("/N", 0))) == channels:
            return cast(PdfObject, space)
    return NameObject("/DeviceRGB" if mode == "RGB" else "/DeviceGray")


# -- what makes a file big --------------------------------------------------------------------


def size_report(pdf: bytes) -> list[tuple[str, int]]:
    """The largest contributors to a PDF's size, largest first: each image (named by its
    resource name and the first page that draws it, its soft mask included), each font family
    (all subsets of one font together: the embedded font programs, their widths and Unicode
    maps), and the page content streams together."""
    reader = read(pdf)
    images: dict[int, tuple[str, int]] = {}
    for idnum, use in image_uses(reader).items():
        obj = cast(StreamObject, reader.get_object(idnum))
        name = use.key if isinstance(use.key, str) else use.key[-1]
        images[idnum] = (_image_label(name, obj, use.page),
                         _stored_size(obj) + _stored_size(_smask(obj)))
    fonts: dict[str, int] = {}
    seen_fonts: set[int] = set()
    seen_forms: set[int] = set()
    content = 0
    for index, page in enumerate(reader.pages):
        content += sum(_stored_size(s.get_object()) for s in _contents(page))
        resources = page.get("/Resources")
        for name, obj, ref, resources_of in _xobjects_in(
                cast(DictionaryObject | None, resources.get_object() if resources else None)):
            key = ref.idnum if ref is not None else id(obj)
            if obj.get("/Subtype") == "/Image" and key not in images:  # listed, never drawn
                images[key] = (_image_label(name, obj, index),
                               _stored_size(obj) + _stored_size(_smask(obj)))
            elif obj.get("/Subtype") == "/Form" and key not in seen_forms:
                seen_forms.add(key)
                content += _stored_size(obj)
            _fonts(resources_of, fonts, seen_fonts)
        _fonts(cast(DictionaryObject | None, resources.get_object() if resources else None),
               fonts, seen_fonts)
    report = list(images.values())
    report += [(f"font {name}", size) for name, size in fonts.items()]
    if content:
        report.append(("page content (text and drawings)", content))
    report.sort(key=lambda item: (-item[1], item[0]))
    return report


def _image_label(name: str, obj: StreamObject, page: int) -> str:
    """"image Im3 on page 2, 1600×1200 px"; WeasyPrint's long hashed names are shortened."""
    name = name.lstrip("/")
    if len(name) > 16:
        name = name[:10] + "…"
    width, height = obj.get("/Width", "?"), obj.get("/Height", "?")
    return f"image {name} on page {page + 1}, {width}×{height} px"


def _contents(page: PageObject) -> list[PdfObject]:
    contents = page.get("/Contents")
    if contents is None:
        return []
    resolved = contents.get_object()
    return list(resolved) if isinstance(resolved, ArrayObject) else [contents]


def _xobjects_in(resources: DictionaryObject | None, depth: int = 0,
                 ) -> Iterator[tuple[str, StreamObject, IndirectObject | None, DictionaryObject]]:
    if resources is None or depth > MAX_DEPTH:
        return
    table = resources.get("/XObject")
    if table is None:
        return
    for name, ref in cast(DictionaryObject, table.get_object()).items():
        obj = ref.get_object()
        if not isinstance(obj, StreamObject):
            continue
        yield str(name), obj, ref if isinstance(ref, IndirectObject) else None, resources
        if obj.get("/Subtype") == "/Form":
            inner = obj.get("/Resources")
            if inner is not None:
                yield from _xobjects_in(cast(DictionaryObject, inner.get_object()), depth + 1)


def _fonts(resources: DictionaryObject | None, fonts: dict[str, int], seen: set[int]) -> None:
    if resources is None or "/Font" not in resources:
        return
    for ref in cast(DictionaryObject, resources["/Font"].get_object()).values():
        key = ref.idnum if isinstance(ref, IndirectObject) else id(ref)
        if key in seen:
            continue
        seen.add(key)
        font = cast(DictionaryObject, ref.get_object())
        name = str(font.get("/BaseFont", "/(unnamed)")).lstrip("/")
        if len(name) > 7 and name[6] == "+" and name[:6].isupper():
            name = name[7:]  # the subset tag, ABCDEF+NotoSerif
        size = _font_size(font)
        fonts[name] = fonts.get(name, 0) + size


def _font_size(font: DictionaryObject) -> int:
    parts: list[PdfObject | None] = [font.get("/ToUnicode")]
    descendants = font.get("/DescendantFonts")
    members = [font]
    if descendants is not None:
        members += [cast(DictionaryObject, d.get_object())
                    for d in cast(ArrayObject, descendants.get_object())]
    for member in members:
        descriptor = member.get("/FontDescriptor")
        if descriptor is not None:
            descriptor = cast(DictionaryObject, descriptor.get_object())
            parts += [descriptor.get(k) for k in ("/FontFile", "/FontFile2", "/FontFile3",
                                                   "/CIDSet")]
        parts.append(member.get("/CIDToGIDMap"))
    procs = font.get("/CharProcs")
    if procs is not None:
        parts += list(cast(DictionaryObject, procs.get_object()).values())
    return sum(_stored_size(p.get_object()) for p in parts if p is not None)


def megabytes(size: int) -> str:
    """Sizes as people read them: "7.2 MB", "300 KB"."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def budget_message(shown: str | None, size: int, budget: int, report: list[tuple[str, int]],
                   top: int = 3) -> str:
    """"out/x.pdf is 7.2 MB, over the 5.0 MB e-mail budget; largest: image Im3 on page 2, …
    (4.1 MB), font NotoSerif (300 KB)"; without a name, "the PDF is …" (for a Problem, which
    names the file itself)."""
    largest = ", ".join(f"{what} ({megabytes(n)})" for what, n in report[:top])
    return (f"{shown or 'the PDF'} is {megabytes(size)}, over the {megabytes(budget)} e-mail "
            "budget" + (f"; largest: {largest}" if largest else ""))
