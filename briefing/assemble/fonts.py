"""One font program per font in a merged file: the parts' subsets of a font become one subset.

Every part is rendered on its own (a pack's cover, contents and documents; the running header
and footer stamped on the pages), and WeasyPrint embeds a subset of each font it uses in each
part. The merged file then had several programs for one font, often under the same subset tag
(the tag comes from the font, not from the glyphs kept), which ISO 32000-1 9.6.4 forbids: a tag
names one subset. `share_font_programs` merges them: WeasyPrint subsets with glyph ids kept
(HarfBuzz's RETAIN_GIDS), so the subsets of one font agree on every glyph id and their union is
a subset that serves every font dictionary that used one of them. Each group gets that one
program under one tag derived from its bytes. Programs that cannot be merged (not TrueType
outlines, or glyph orders that disagree) keep their own program but get a tag of their own.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

from pypdf import PdfWriter
from pypdf.generic import (
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
)

#: how deep form XObjects are followed looking for fonts
MAX_FORM_DEPTH = 8


@dataclass
class _Program:
    """One embedded font program and the font dictionaries that use it."""

    ref: IndirectObject
    name: str  # the font's name without the subset tag
    descriptors: dict[int, DictionaryObject] = field(default_factory=dict)
    fonts: dict[int, DictionaryObject] = field(default_factory=dict)  # Type0 and CIDFont dicts


def _untagged(name: str) -> str:
    tag, plus, rest = name.partition("+")
    return rest if plus and len(tag) == 6 and tag.isupper() else name


def _resources(writer: PdfWriter) -> Iterator[DictionaryObject]:
    seen: set[int] = set()

    def visit(resources: object, depth: int) -> Iterator[DictionaryObject]:
        resolved = resources.get_object() if hasattr(resources, "get_object") else resources
        if not isinstance(resolved, DictionaryObject) or depth > MAX_FORM_DEPTH:
            return
        yield resolved
        xobjects = resolved.get("/XObject")
        for ref in cast(DictionaryObject, xobjects.get_object()).values() if xobjects else ():
            if isinstance(ref, IndirectObject):
                if ref.idnum in seen:
                    continue
                seen.add(ref.idnum)
            form = ref.get_object()
            if isinstance(form, StreamObject) and form.get("/Subtype") == "/Form":
                yield from visit(form.get("/Resources"), depth + 1)

    for page in writer.pages:
        yield from visit(page.get("/Resources"), 0)


def _programs(writer: PdfWriter) -> list[_Program]:
    """Every TrueType program (FontFile2) of a composite font, with who uses it."""
    found: dict[int, _Program] = {}
    for resources in _resources(writer):
        fonts = resources.get("/Font")
        for ref in cast(DictionaryObject, fonts.get_object()).values() if fonts else ():
            font = ref.get_object()
            if not isinstance(font, DictionaryObject) or font.get("/Subtype") != "/Type0":
                continue
            for descendant_ref in font.get("/DescendantFonts", []):
                descendant = descendant_ref.get_object()
                descriptor_ref = descendant.get("/FontDescriptor")
                descriptor = descriptor_ref.get_object() if descriptor_ref else None
                if not isinstance(descriptor, DictionaryObject):
                    continue
                program_ref = descriptor.raw_get("/FontFile2") if "/FontFile2" in descriptor \
                    else None
                if not isinstance(program_ref, IndirectObject):
                    continue
                program = found.setdefault(program_ref.idnum, _Program(
                    program_ref, _untagged(str(font.get("/BaseFont", "")).lstrip("/"))))
                program.descriptors[id(descriptor)] = descriptor
                program.fonts[id(font)] = font
                program.fonts[id(descendant)] = descendant
    return list(found.values())


def _tag(data: bytes) -> str:
    """Six uppercase letters from the program's bytes (ISO 32000-1 9.6.4)."""
    digest = hashlib.sha256(data).digest()
    return "".join(string.ascii_uppercase[b % 26] for b in digest[:6])


@functools.lru_cache(maxsize=64)
def _union(programs: tuple[bytes, ...]) -> bytes | None:
    """One TrueType subset with every glyph of `programs`, subsets of one font with glyph ids
    kept; None when they are not that (no glyf table, glyph orders that disagree). Cached:
    a pack's copies share all parts but the cover, so they merge the same programs."""
    from fontTools.ttLib import TTFont

    fonts = [TTFont(io.BytesIO(data), recalcTimestamp=False) for data in programs]
    if not all("glyf" in f and "hmtx" in f for f in fonts):
        return None
    fonts.sort(key=lambda f: -len(f.getGlyphOrder()))
    base, others = fonts[0], fonts[1:]
    order = base.getGlyphOrder()
    if any(f["head"].unitsPerEm != base["head"].unitsPerEm for f in others):
        return None
    for other in others:
        theirs = other.getGlyphOrder()
        if len(theirs) > len(order):
            return None
        # fontTools names glyphs from each subset's own cmap ("space" in one subset is
        # "glyph00003" in another), so glyphs are matched by id, and names translated
        rename = {their_name: order[gid] for gid, their_name in enumerate(theirs)}
        for gid, their_name in enumerate(theirs):
            glyph = other["glyf"][their_name]
            if glyph.numberOfContours == 0:
                continue  # empty in this subset
            mine = order[gid]
            if base["glyf"][mine].numberOfContours != 0:
                continue
            glyph = copy.deepcopy(glyph)
            for component in getattr(glyph, "components", None) or ():
                component.glyphName = rename[component.glyphName]
            base["glyf"][mine] = glyph
            base["hmtx"][mine] = other["hmtx"][their_name]
        if "cmap" in base and "cmap" in other:
            for table in base["cmap"].tables:
                for code, their_name in (other.getBestCmap() or {}).items():
                    if table.isUnicode() and (code <= 0xFFFF or table.format in (12, 13)):
                        table.cmap.setdefault(code, rename[their_name])
    buffer = io.BytesIO()
    base.save(buffer)
    return buffer.getvalue()


def share_font_programs(writer: PdfWriter) -> int:
    """Merge the subsets of each font into one program (see the module docstring); returns the
    number of programs the file no longer carries."""
    groups: dict[str, list[_Program]] = {}
    for program in _programs(writer):
        groups.setdefault(program.name, []).append(program)
    saved = 0
    for name, members in groups.items():
        datas = [cast(StreamObject, m.ref.get_object()).get_data() for m in members]
        merged: bytes | None = None
        if len(members) > 1:
            try:
                merged = _union(tuple(datas))
            except Exception:  # a font fontTools cannot read: leave the programs as they are
                merged = None
        if merged is None:
            for member, data in zip(members, datas, strict=True):
                _retag(member, name, _tag(data))
            continue
        stream = StreamObject()
        stream._data = merged
        stream[NameObject("/Length1")] = NumberObject(len(merged))
        stream = stream.flate_encode()
        ref = writer._add_object(stream)
        tag = _tag(merged)
        for member in members:
            for descriptor in member.descriptors.values():
                descriptor[NameObject("/FontFile2")] = ref
                if "/CIDSet" in descriptor:  # it would list one part's glyphs only
                    del descriptor[NameObject("/CIDSet")]
            _retag(member, name, tag)
        saved += len(members) - 1
    return saved


def _retag(program: _Program, name: str, tag: str) -> None:
    tagged = NameObject(f"/{tag}+{name}")
    for font in program.fonts.values():
        font[NameObject("/BaseFont")] = tagged
    for descriptor in program.descriptors.values():
        descriptor[NameObject("/FontName")] = tagged
