"""Khmer (and other complex scripts) extracted as written: each line carries its source text.

WeasyPrint maps each glyph to one piece of text (the PDF's ToUnicode table), which cannot
describe scripts whose glyphs are reordered or reused within syllables. `install_actual_text`
makes each such line carry its exact source in a marked-content `/ActualText`. It patches
WeasyPrint, so it lives in the render stage (the only importer of weasyprint).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from briefing.source.khmer import ZWSP, needs_actual_text


def install_actual_text() -> None:
    """Wrap WeasyPrint's line drawing so complex-script lines carry their source as /ActualText.

    WeasyPrint draws each line with `draw_inline_level` (it calls itself through the module, so
    the wrapper sees every line); the wrapper puts `/Span <</ActualText …>> BDC … EMC` around a
    line whose text needs it. A whole line, not each text box: `pdftotext` places an /ActualText
    where its last glyph is drawn, and a Khmer word often ends with a subscript drawn left of
    the previous vowel, so span-per-word output gets spurious spaces. A tagged PDF gets no line
    span: there each text box's own Span carries the text (`_install_tagged_actual_text`).
    Installed once; if a WeasyPrint
    release renames the function, nothing is installed and the Khmer tests (which compare the
    extracted text with the source) fail and say so.
    """
    import weasyprint.draw as draw
    from weasyprint.formatting_structure import boxes

    current: Callable[..., Any] | None = getattr(draw, "draw_inline_level", None)
    if current is None or getattr(current, "_briefing_actual_text", False):
        return

    import pydyf

    original = current

    def draw_inline_level(stream: Any, page: Any, box: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(stream, "_tags", None) is not None:  # tagged: each Span carries its own
            return original(stream, page, box, *args, **kwargs)
        text = _line_text(box, boxes) if isinstance(box, boxes.LineBox) else ""
        if not (text.strip() and needs_actual_text(text)):
            return original(stream, page, box, *args, **kwargs)
        stream.begin_marked_content(
            "Span", pydyf.Dictionary({"ActualText": pydyf.String(text)})
        )
        try:
            return original(stream, page, box, *args, **kwargs)
        finally:
            stream.end_marked_content()

    draw_inline_level._briefing_actual_text = True  # type: ignore[attr-defined]
    draw.draw_inline_level = draw_inline_level
    _install_tagged_actual_text(boxes, pydyf)


def _install_tagged_actual_text(boxes: Any, pydyf: Any) -> None:
    """In a tagged PDF (--pdf-ua), give each text box's own marked content its /ActualText:
    `/Span <</MCID n /ActualText (…)>> BDC`, rather than a line-level span around the Spans.

    PDFium (Chrome's reader) drops text whose /ActualText span encloses other marked content
    (695 Khmer characters extracted untagged, 20 tagged), and a reader that follows the tag
    tree takes each element's content as one piece. One property list holding both the MCID
    and the text is what ISO 32000-1 14.9.4 describes. WeasyPrint's `Stream.marked` (the
    context manager that opens each text box's Span) is wrapped; its MCID bookkeeping is kept.
    """
    from contextlib import contextmanager

    from weasyprint.pdf.stream import Stream

    current = getattr(Stream, "marked", None)
    if current is None or getattr(current, "_briefing_actual_text", False):
        return
    original = current

    @contextmanager
    def marked(self: Any, box: Any, tag: str) -> Any:
        text = ("" if not isinstance(box, boxes.TextBox) or box.element_tag == "wbr::before"
                else str(box.text).replace(ZWSP, ""))
        if self._tags is None or not (text.strip() and needs_actual_text(text)):
            with original(self, box, tag):
                yield
            return
        mcid = len(self._tags)
        self._tags[box] = {"tag": tag, "mcid": mcid}
        pydyf.Stream.begin_marked_content(self, tag, pydyf.Dictionary(
            {"MCID": mcid, "ActualText": pydyf.String(text)}))
        try:
            yield
        finally:
            pydyf.Stream.end_marked_content(self)

    marked._briefing_actual_text = True  # type: ignore[attr-defined]
    Stream.marked = marked


def _line_text(box: Any, boxes: Any) -> str:
    """The text of a laid-out line in order, without the U+200B that a `<wbr>` generates."""
    if isinstance(box, boxes.TextBox):
        return "" if box.element_tag == "wbr::before" else str(box.text).replace(ZWSP, "")
    return "".join(_line_text(child, boxes) for child in getattr(box, "children", ()))
