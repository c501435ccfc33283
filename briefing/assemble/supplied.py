"""PDFs from outside (a designed cover, a study attached to a pack) reduced to their pages.

Such a file is untrusted: it may be truncated or garbage, locked with a password, have a page
tree that loops, carry a "decompression bomb" (a small stream that inflates to gigabytes), or
carry scripts, automatic actions, forms, annotations and embedded files. What comes out is a
new PDF with only the pages' drawing: each page keeps its boxes, rotation, resources and
content, and everything reachable from those is walked once to drop actions, scripts, file
specifications and annotations, and to measure every compressed stream without keeping its
output. Anything that cannot be read is a BriefingError naming the file.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import stat
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefing.assemble.pdfio import open_pdf
from briefing.errors import BriefingError
from briefing.render.pdf import Anchor, RenderedPart
from briefing.render.timelimit import TimeLimitExceeded, time_limit

#: the file itself, its pages, one stream once decoded (below pypdf's own 75 MB, so later
#: steps that decode images can), all streams together, and an image's pixels
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_PAGES = 2000
MAX_STREAM_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_IMAGE_PIXELS = 150_000_000
#: reading and cleaning: a fixed allowance plus an amount per MB of the file
SECONDS_BASE = 30.0
SECONDS_PER_MB = 1.0
#: PDF's own page size limit (200 inches), in points
MAX_PAGE_SIDE = 14_400.0

#: what a page keeps: its drawing and how it is placed, nothing that acts or annotates
PAGE_KEYS = frozenset({
    "/Type", "/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox", "/Rotate",
    "/Resources", "/Contents", "/Group", "/UserUnit",
})
#: keys dropped wherever they are found below a page
DROPPED_KEYS = frozenset({
    "/A", "/AA", "/JS", "/JavaScript", "/OpenAction", "/Annots", "/AcroForm", "/Names",
    "/EmbeddedFiles", "/EF", "/RF", "/URI", "/PieceInfo", "/Threads", "/XFA",
})
#: a dictionary of one of these kinds is never kept, whatever key leads to it
DROPPED_TYPES = frozenset({"/Action", "/Filespec", "/EmbeddedFile", "/Annot", "/EmbeddedFiles"})
ACTIONS = frozenset({
    "/JavaScript", "/Launch", "/URI", "/SubmitForm", "/ImportData", "/ResetForm", "/GoTo",
    "/GoToR", "/GoToE", "/GoTo3DView", "/Rendition", "/Sound", "/Movie", "/Hide", "/Named",
    "/SetOCGState", "/Trans", "/RichMediaExecute", "/Thread",
})
#: image codecs are decoded by the viewer, a picture at a time (pixels are limited instead)
_IMAGE_CODECS = frozenset({"/DCTDecode", "/DCT", "/JPXDecode", "/CCITTFaxDecode", "/CCF",
                           "/JBIG2Decode"})
_FLATE = frozenset({"/FlateDecode", "/Fl"})


@dataclass(frozen=True)
class CleanPdf:
    pdf: bytes
    #: width and height of each page's media box, in points
    page_sizes: tuple[tuple[float, float], ...]


def read_untrusted(path: Path, shown: str, what: str) -> bytes:
    """The file's bytes, if it is a regular file of at most MAX_FILE_BYTES (never a FIFO
    that would block, or a device that never ends)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise BriefingError.at(shown, None,
                               f"cannot read the {what}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise BriefingError.at(shown, None, f"the {what} is not a regular file")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise BriefingError.at(shown, None, f"{what} PDF is larger than "
                               f"{MAX_FILE_BYTES // 1024 // 1024} MB")
    return data


def clean_pdf(data: bytes, shown: str, what: str) -> CleanPdf:
    """The pages of an untrusted PDF in a new file, or a BriefingError naming `shown`."""
    if len(data) > MAX_FILE_BYTES:
        raise BriefingError.at(shown, None, f"{what} PDF is larger than "
                               f"{MAX_FILE_BYTES // 1024 // 1024} MB")
    seconds = SECONDS_BASE + SECONDS_PER_MB * len(data) / 1024 / 1024
    try:
        with time_limit(seconds), _pypdf_quiet(shown):
            return _clean(data, shown, what)
    except TimeLimitExceeded:
        raise BriefingError.at(shown, None, f"{what} PDF took longer than {seconds:.0f} s to "
                               f"read and was stopped") from None
    except BriefingError:
        raise
    except Exception as exc:  # pypdf raises many kinds on broken files
        message = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        detail = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        raise BriefingError.at(shown, None,
                               f"{what} is not a readable PDF ({detail})") from None


_log = logging.getLogger(__name__)


@contextlib.contextmanager
def _pypdf_quiet(shown: str) -> Iterator[None]:
    """pypdf says what it repairs in a broken file ("EOF marker not found") through its own
    logger and Python warnings, which would reach stderr ahead of briefing's message and
    without a file name. While a supplied PDF is read they are kept off stderr: the problem
    that matters is briefing's error, and `-v` shows what pypdf said, naming the file."""

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            _log.info("%s: pypdf: %s", shown, record.getMessage())

    logger = logging.getLogger("pypdf")
    handler, propagate = Collect(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _clean(data: bytes, shown: str, what: str) -> CleanPdf:
    from pypdf import PdfWriter

    if not data.lstrip()[:5].startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
        raise BriefingError.at(shown, None, f"{what} is not a PDF file (no %PDF- header)")
    reader = open_pdf(data, strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise BriefingError.at(shown, None, f"{what} PDF is protected by a password; save "
                               f"it without one (a permissions-only password is fine)")
    count = len(reader.pages)
    if count == 0:
        raise BriefingError.at(shown, None, f"{what} PDF has no pages")
    if count > MAX_PAGES:
        raise BriefingError.at(shown, None, f"{what} PDF has {count} pages; at most "
                               f"{MAX_PAGES} can be included")
    writer = PdfWriter()
    sizes: list[tuple[float, float]] = []
    for number, page in enumerate(reader.pages, start=1):
        sizes.append(_page_size(page, shown, what, number))
        # pypdf leaves the excluded keys out at every level of what it copies
        added = writer.add_page(page, excluded_keys=sorted(DROPPED_KEYS))
        for key in [k for k in added if k not in PAGE_KEYS and k != "/Parent"]:
            del added[key]
    _scrub([page.indirect_reference for page in writer.pages], _Budget(shown, what))
    # copied again: only what the cleaned pages still refer to is written
    clean = PdfWriter()
    for page in writer.pages:
        clean.add_page(page)
    buffer = io.BytesIO()
    clean.write(buffer)
    pdf = buffer.getvalue()
    if len(open_pdf(pdf).pages) != count:
        raise BriefingError.at(shown, None, f"{what} PDF lost pages when cleaned")
    return CleanPdf(pdf, tuple(sizes))


def _page_size(page: Any, shown: str, what: str, number: int) -> tuple[float, float]:
    box = page.mediabox
    width, height = float(box.width), float(box.height)
    if not all(math.isfinite(v) and 1 <= abs(v) <= MAX_PAGE_SIDE for v in (width, height)):
        raise BriefingError.at(shown, None, f"{what} PDF page {number} has an impossible size "
                               f"({width:g} x {height:g} points)")
    return abs(width), abs(height)


class _Budget:
    """Decoded bytes of the file's streams, counted against the limits."""

    def __init__(self, shown: str, what: str):
        self.shown, self.what, self.total = shown, what, 0

    def refuse(self, message: str) -> BriefingError:
        return BriefingError.at(self.shown, None, f"{self.what} PDF {message}")

    def add(self, size: int) -> None:
        self.total += size
        if self.total > MAX_TOTAL_BYTES:
            raise self.refuse(f"decompresses to more than {MAX_TOTAL_BYTES // 1024 // 1024} "
                              f"MB in all (a decompression bomb?)")


def _dropped(value: Any) -> bool:
    """An action, script, file specification, embedded file or annotation."""
    from pypdf.generic import DictionaryObject

    if not isinstance(value, DictionaryObject):
        return False
    return (value.get("/Type") in DROPPED_TYPES or value.get("/S") in ACTIONS
            or "/JS" in value)


def _scrub(roots: list[Any], budget: _Budget) -> None:
    """Walk everything reachable from the pages once (iteratively: the graph may be deep or
    cyclic), dropping what acts or embeds and measuring every stream."""
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        IndirectObject,
        NullObject,
        StreamObject,
    )

    stack = list(roots)
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        value = item.get_object() if isinstance(item, IndirectObject) else item
        if value is None or id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, DictionaryObject):
            if isinstance(value, StreamObject):
                _check_stream(value, budget)
            for key in list(value.keys()):
                target = value[key]
                resolved = target.get_object() if isinstance(target, IndirectObject) else target
                if key in DROPPED_KEYS or _dropped(resolved):
                    del value[key]
                elif key != "/Parent":
                    stack.append(target)
        elif isinstance(value, ArrayObject):
            for index, target in enumerate(value):
                resolved = target.get_object() if isinstance(target, IndirectObject) else target
                if _dropped(resolved):
                    value[index] = NullObject()
                else:
                    stack.append(target)


def _filters(stream: Any) -> list[str]:
    found = stream.get("/Filter")
    if found is None:
        return []
    found = found.get_object()
    return [str(f) for f in found] if isinstance(found, list) else [str(found)]


def _check_stream(stream: Any, budget: _Budget) -> None:
    """Refuse a stream that decodes to more than MAX_STREAM_BYTES (measured without keeping
    its output) and huge images; drop external stream data (a file elsewhere)."""
    for key in ("/F", "/FFilter", "/FDecodeParms"):
        if key in stream:
            del stream[key]
    if stream.get("/Subtype") == "/Image":
        try:
            width, height = int(stream.get("/Width", 0)), int(stream.get("/Height", 0))
        except (TypeError, ValueError):
            width = height = 0
        if width * height > MAX_IMAGE_PIXELS:
            raise budget.refuse(f"has an image of {width} x {height} pixels")
    raw: bytes = stream._data
    filters = _filters(stream)
    if not filters or filters[0] in _IMAGE_CODECS:
        size: int | None = len(raw)
    elif filters[0] in _FLATE:
        size = inflated_size(raw)
    else:  # LZW, run-length, text encodings: pypdf decodes them within its own limits
        try:
            size = len(stream.get_data())
        except Exception as exc:
            raise budget.refuse(
                f"has a stream that cannot be decoded ({type(exc).__name__})") from None
    if size is None or size > MAX_STREAM_BYTES:
        raise budget.refuse(f"has a stream that decompresses to more than "
                            f"{MAX_STREAM_BYTES // 1024 // 1024} MB (a decompression bomb?)")
    budget.add(size)


def inflated_size(raw: bytes, limit: int = MAX_STREAM_BYTES) -> int | None:
    """How many bytes a zlib stream inflates to, or None past `limit`; the output is
    produced a megabyte at a time and thrown away. A damaged stream counts what it gave."""
    inflater = zlib.decompressobj()
    size = 0
    pending = raw
    try:
        while pending:
            size += len(inflater.decompress(pending, 1024 * 1024))
            if size > limit:
                return None
            pending = inflater.unconsumed_tail
            if inflater.eof:
                break
        for chunk in _drain(inflater):
            size += chunk
            if size > limit:
                return None
    except zlib.error:
        pass
    return size


def _drain(inflater: Any) -> Iterator[int]:
    while not inflater.eof:
        out = inflater.decompress(b"", 1024 * 1024)
        if not out:
            return
        yield len(out)


def supplied_pdf(path: Path, shown: str, *, name: str) -> RenderedPart:
    """A PDF from outside (a designed cover, a study), reduced to its pages: no scripts,
    actions, forms, annotations or attachments, and no decompression bombs (assemble/supplied.py).
    Every page gets an anchor `page-N` at its top."""
    cleaned = clean_pdf(read_untrusted(path, shown, name), shown, name)
    sizes = cleaned.page_sizes
    anchors = {f"page-{i}": Anchor(i, 0.0, height) for i, (_, height) in enumerate(sizes)}
    return RenderedPart(name=name, pdf=cleaned.pdf, page_sizes=sizes, anchors=anchors)
