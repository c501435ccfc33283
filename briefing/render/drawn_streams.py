"""A page's content stream joined and compressed as soon as WeasyPrint has drawn it.

WeasyPrint draws every page into a pydyf `Stream`: a list with one small bytes object per
operator and operand, hundreds a page, which pydyf joins and compresses only when it writes
the file, after the last page. Until then every page's list stays in memory, next to every
laid-out page: at 500 questions, 13.5 MB of Python objects for 187 pages, the largest growth
of memory while drawing, which is when a large document's memory peaks.

`install_drawn_streams` has `Page.paint` do, once the page is drawn, what pydyf's
`Stream.data` would do at the end: join the items with the same separator and, where the
stream is to be compressed, compress them with the same settings, then mark the stream as
compressed already (its `/Filter` set where pydyf would set it). Nothing writes to a page's
stream after it is painted, so the file is the same, byte for byte
(tests/render/test_drawn_streams.py). Installed only over the sources it was written for
(WeasyPrint 70's `Page.paint` and `generate_pdf`, pydyf's `Stream.data`, by digest).
"""

from __future__ import annotations

import threading
import zlib
from typing import Any

from briefing.render.sources import source_digest

#: sha256 of WeasyPrint 70's `Page.paint` and `generate_pdf`, and pydyf 0.13's `Stream.data`
KNOWN_SOURCES = {
    "paint": "b2f0dcbda755b5d5bd3969e12620c743cdd57fd6d4855685793e128175714410",
    "generate_pdf": "626343ef25c396e8521948cadbe2b7544331c161040da80ed4e338fadac3efa9",
    "data": "bdc2bc513f286de7b7a7220a43e6085daa6ed0056d9c04e3c9b5abe40f3ecf81",
}
_LOCK = threading.Lock()
#: WeasyPrint's own `Page.paint`, once replaced
replaced_paint: Any = None


def compact(stream: Any) -> None:
    """`stream`'s items as the one bytes object pydyf would write: joined, and compressed
    where pydyf would compress them."""
    from pydyf import _to_bytes

    data = b"\n".join(_to_bytes(item) for item in stream.stream)
    if stream.compress:
        compressor = zlib.compressobj(level=9)
        data = compressor.compress(data) + compressor.flush()
        stream.extra["Filter"] = "/FlateDecode"
        stream.compress = False
    stream.stream = [data]


def paint(self: Any, stream: Any, scale: float = 1) -> None:
    """WeasyPrint 70's `Page.paint`, then the page's stream compacted."""
    replaced_paint(self, stream, scale)
    compact(stream)


def sources() -> dict[str, str | None]:
    import pydyf
    from weasyprint import document, pdf

    own = replaced_paint if document.Page.paint is paint else document.Page.paint
    return {"paint": source_digest(own), "generate_pdf": source_digest(pdf.generate_pdf),
            "data": source_digest(pydyf.Stream.data.fget)}


def install_drawn_streams() -> bool:
    """Put `paint` in place over the sources it was written for; whether it is."""
    from weasyprint import document

    global replaced_paint
    with _LOCK:
        if document.Page.paint is paint:
            return True
        if sources() != KNOWN_SOURCES:
            return False
        replaced_paint = document.Page.paint
        document.Page.paint = paint
        return True
