"""Khmer (and other complex scripts) extracted as written: each line carries its source text.

WeasyPrint maps each glyph to one piece of text (the PDF's ToUnicode table), which cannot
describe scripts whose glyphs are reordered or reused within syllables. `install_actual_text`
makes each such line carry its exact source in a marked-content `/ActualText`. It patches
WeasyPrint, so it lives in the render stage (the only importer of weasyprint).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from briefing.source.khmer import needs_actual_text


def install_actual_text() -> None:
    """Wrap WeasyPrint's line drawing so complex-script lines carry their source as /ActualText.

    WeasyPrint draws each line with `draw_inline_level` (it calls itself through the module, so
    the wrapper sees every line); the wrapper puts `/Span <</ActualText …>> BDC … EMC` around a
    line whose text needs it. A whole line, not each text box: `pdftotext` places an /ActualText
    where its last glyph is drawn, and a Khmer word often ends with a subscript drawn left of
    the previous vowel, so span-per-word output gets spurious spaces. The span nests around
    WeasyPrint's own tagging spans, which the PDF format allows. Installed once; if a WeasyPrint
    release renames the function, nothing is installed and the Khmer tests (which compare the
    extracted text with the source) fail and say so.
    """
    import weasyprint.draw as draw
    from weasyprint.formatting_structure import boxes

    current: Callable[..., Any] | None = getattr(draw, "draw_inline_level", None)
    if current is None or getattr(current, "_briefing_actual_text", False):
        return

    import pydyf  # type: ignore[import-untyped]

    original = current

    def draw_inline_level(stream: Any, page: Any, box: Any, *args: Any, **kwargs: Any) -> Any:
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


def _line_text(box: Any, boxes: Any) -> str:
    """The text of a laid-out line in order, without the U+200B that a `<wbr>` generates."""
    if isinstance(box, boxes.TextBox):
        return "" if box.element_tag == "wbr::before" else str(box.text)
    return "".join(_line_text(child, boxes) for child in getattr(box, "children", ()))
