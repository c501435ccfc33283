"""Every glyph drawn gets a Unicode mapping: WeasyPrint leaves some glyphs of a cluster empty.

WeasyPrint writes a font's ToUnicode table from the text of each glyph's cluster: when shaping
turns one cluster into several glyphs (a Khmer consonant with a subscript form, a split vowel),
the cluster's text goes to the last glyph and the others map to the empty string. A glyph with
no Unicode value breaks PDF/UA (ISO 14289-1 7.21.7; `page` PDFUA1-FONT-UNICODE-MAPPING-001,
`outloud` TXT-003), and readers that read text through ToUnicode (pdf.js, mutool) put stray
Latin letters, control characters or U+FFFD in its place.

`install_unicode_fallback` maps those glyphs, just before WeasyPrint writes the fonts, to U+200C
(ZERO WIDTH NON-JOINER): invisible, and true to what the glyph adds to the text, which is
nothing, since its cluster's text is on another glyph of the cluster. (pypdf reads "ខ្មែរ"
as the word with two U+200C before it: invisible, and ignored by search, where giving those
glyphs their own characters read "ែខខ្មែរ".) Lines of Khmer also carry /ActualText (see
actual_text.py), which the readers that support it use instead of ToUnicode, so there this
changes nothing.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from briefing.source.khmer import needs_actual_text

#: what a glyph that adds no text of its own maps to
FALLBACK = "\u200c"
#: the hyphen WeasyPrint adds where it hyphenates a word (CSS `hyphenate-character` default)
LAYOUT_HYPHEN = "\u2010"
SOFT_HYPHEN = "\u00ad"
#: whether the hyphens drawn in the PDF being written are all layout hyphens
_ONLY_LAYOUT_HYPHENS: ContextVar[bool] = ContextVar("only_layout_hyphens", default=False)


@contextmanager
def layout_hyphens_soft(html: str) -> Iterator[None]:
    """While writing the PDF of `html`, map the glyph of U+2010 HYPHEN to U+00AD SOFT HYPHEN.

    Where WeasyPrint hyphenates a word it draws U+2010 at the end of the line, and every reader
    then returned "con‐sequence", so a search for the word failed and screen readers read a
    hyphen. Tagged PDF (ISO 32000-1 14.8.2, "Hyphenation") represents a hyphen added at a line
    break as U+00AD, the soft hyphen, which Unicode defines as invisible except where a line
    breaks and which search ignores: pdf.js drops it, PDFium reports it as its line-end hyphen.
    A glyph has one Unicode value per font, so this is only done when the text itself has no
    U+2010 (authors type "-", U+002D, a different character).
    """
    token = _ONLY_LAYOUT_HYPHENS.set(LAYOUT_HYPHEN not in html)
    try:
        yield
    finally:
        _ONLY_LAYOUT_HYPHENS.reset(token)


@functools.lru_cache(maxsize=32)
def nominal_texts(font_file: bytes, index: int = 0) -> Mapping[int, str]:
    """The character the font's cmap maps to each glyph id (the first, by code point).

    Kept for the process, by the font's bytes: every part and every rebuild draws with the
    same few fonts, and decoding a cmap with fontTools costs about 9 ms a font."""
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(font_file), fontNumber=index, lazy=True)
    found: dict[int, str] = {}
    for code, name in sorted((font.getBestCmap() or {}).items()):
        found.setdefault(font.getGlyphID(name), chr(code))
    return MappingProxyType(found)


def correct_foreign_mappings(to_unicode: dict[int, str], font_file: bytes,
                             index: int = 0) -> int:
    """A glyph that is a character's own glyph, mapped to a text without that character, maps
    to the character instead; returns how many were corrected.

    WeasyPrint maps a glyph to the text of the cluster it first drew: the "…" that CSS
    `text-overflow: ellipsis` draws over cut text got the text it hid (" Cambodia"), and from
    then on every "…" in that font extracted as " Cambodia". A glyph whose text contains its
    own character, or its compatibility decomposition (the "ﬃ" ligature glyph drawing "ffi"),
    is left as it is, and so is text in a complex script: there the glyphs of a cluster map
    to pieces that only make sense together (pypdf read "ខ្មែរ" as "ែខខ្មែរ" when each
    glyph was given its own character).
    """
    try:
        nominal = nominal_texts(font_file, index)
    except Exception:
        return 0
    corrected = 0
    for glyph, text in to_unicode.items():
        own = nominal.get(glyph)
        if own is None or not text or needs_actual_text(text + own):
            continue  # a complex script's cluster mapping is right as a whole (see above)
        if own not in text and (
                unicodedata.normalize("NFKD", own) not in unicodedata.normalize("NFKD", text)):
            to_unicode[glyph] = own
            corrected += 1
    return corrected


def fill_empty_mappings(to_unicode: dict[int, str]) -> int:
    """Map every glyph of `to_unicode` that maps to "" to U+200C; returns how many."""
    empty = [glyph for glyph, text in to_unicode.items() if not text]
    for glyph in empty:
        to_unicode[glyph] = FALLBACK
    return len(empty)


def install_unicode_fallback() -> None:
    """Wrap WeasyPrint's font writer so each font's empty ToUnicode entries are filled first."""
    import weasyprint.pdf as pdf_module

    current: Callable[..., Any] | None = getattr(pdf_module, "build_fonts_dictionary", None)
    if current is None or getattr(current, "_briefing_unicode", False):
        return
    original = current

    def build_fonts_dictionary(pdf: Any, fonts: Any, *args: Any, **kwargs: Any) -> Any:
        soft = _ONLY_LAYOUT_HYPHENS.get()
        for font in fonts.values():
            to_unicode = getattr(font, "to_unicode", None)
            content = getattr(font, "file_content", None)
            if isinstance(to_unicode, dict) and isinstance(content, bytes):
                index = int(getattr(font, "index", 0) or 0)
                fill_empty_mappings(to_unicode)
                correct_foreign_mappings(to_unicode, content, index)
            if soft and isinstance(to_unicode, dict):
                for glyph, text in to_unicode.items():
                    if text == LAYOUT_HYPHEN:
                        to_unicode[glyph] = SOFT_HYPHEN
        return original(pdf, fonts, *args, **kwargs)

    build_fonts_dictionary._briefing_unicode = True  # type: ignore[attr-defined]
    pdf_module.build_fonts_dictionary = build_fonts_dictionary
