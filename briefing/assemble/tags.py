"""One structure tree for a merged PDF: the tags of every part, in reading order (PDF/UA).

WeasyPrint tags each part it renders (cover, body, notes; a pack's contents and items): a
structure tree whose elements point at marked content (MCIDs) on the part's pages and at its
link annotations, and a parent tree that maps each page's MCIDs, and each annotation, back to
its element. pypdf's page merge carries the pages and annotations over but not the trees, so
the merged file would be untagged. `merge_structure` rebuilds the tree in the merged file:

- a new /StructTreeRoot whose only kid is a /Document element holding each part's top-level
  elements in order (a part's own /Document element is unwrapped);
- elements are copied by hand, never by pypdf's deep clone, which would follow /P up to the
  part's root and drag in every element of the part, and the pages they name: a pack renders
  every recipient's cover in one part, and a copy must not carry the other covers;
- /Pg and OBJR references point at the merged pages and annotations, matched by position
  (page order, and each page's /Annots order, which page copying keeps);
- the parent tree is built anew from the copied tree, so it agrees with it by construction:
  each page's /StructParents and each annotation's /StructParent are renumbered across parts;
- element IDs (WeasyPrint gives table header cells one, and cells name them in /Headers) get
  a per-part prefix, so they stay unique, and an /IDTree lists them; /RoleMap and /ClassMap
  are merged (the first part's meaning wins on a clash);
- an MCID that no element of the tree claims (WeasyPrint tags text in @page margin boxes but
  leaves it out of the tree) becomes an /Artifact, so nothing is marked yet unreachable;
- a part without tags (a supplied cover or attached PDF) becomes one /Figure per page, with
  alternative text that says what it is: its text is not available to a screen reader.

Running headers and footers are rendered untagged and stamped onto the pages; `mark_as_artifact`
wraps their content as pagination artifacts first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast
from xml.sax.saxutils import escape

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ContentStream,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)

from briefing.assemble.pdfio import metadata_stream, number_tree, open_pdf
from briefing.assemble.tagfix import empty_mcids, regroup_list

#: keys of a structure element copied as they are (values are plain data)
_PLAIN_KEYS = ("/S", "/T", "/Lang", "/Alt", "/E", "/ActualText", "/C", "/R", "/A")
#: deeper than this, a structure tree is not one WeasyPrint wrote: stop there
MAX_DEPTH = 256
_MCID = re.compile(rb"/MCID\s+(\d+)")


# -- the parts' side -------------------------------------------------------------------------


def mark_as_artifact(pdf: bytes) -> bytes:
    """The same PDF with each page's whole content marked as a pagination artifact (running
    headers and footers), so when it is stamped onto tagged pages a screen reader skips it."""
    import io

    writer = PdfWriter(clone_from=open_pdf(pdf))
    for page in writer.pages:
        _wrap(writer, page, b"/Artifact <</Type /Pagination>> BDC\n", b"\nEMC\n")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _wrap(writer: PdfWriter, page: PageObject, before: bytes, after: bytes) -> None:
    """Put `before` and `after` around the page's content, keeping its streams as they are."""
    contents = page.get("/Contents")
    existing: list[PdfObject] = []
    if contents is not None:
        resolved = contents.get_object()
        existing = list(resolved) if isinstance(resolved, ArrayObject) else [contents]
    page[NameObject("/Contents")] = ArrayObject(
        [_stream(writer, before), *existing, _stream(writer, after)])


def _stream(writer: PdfWriter, data: bytes) -> IndirectObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return writer._add_object(stream)


def _content(page: PageObject) -> bytes:
    contents = page.get("/Contents")
    if contents is None:
        return b""
    resolved = contents.get_object()
    streams = list(resolved) if isinstance(resolved, ArrayObject) else [resolved]
    return b"\n".join(cast(StreamObject, s.get_object()).get_data() for s in streams)


def page_mcids(page: PageObject) -> list[int]:
    """The MCIDs marked in a page's content stream (not in forms it draws), in stream order."""
    return [int(m) for m in _MCID.findall(_content(page))]


# -- merging ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartPages:
    """A part's pages in the merged file: `pages` (indexes into the part) were added at merged
    index `start` onwards. `link_texts` are the part's, by part page; `title` says what an
    untagged part is (for its figures' alternative text)."""

    reader: PdfReader
    pages: tuple[int, ...]
    start: int
    link_texts: tuple[tuple[str, ...], ...] = ()
    title: str = "Inserted PDF"


def is_tagged(reader: PdfReader) -> bool:
    return "/StructTreeRoot" in reader.root_object


def merge_structure(writer: PdfWriter, parts: Sequence[PartPages], *, lang: str,
                    title: str) -> None:
    """Give the merged file in `writer` one structure tree made of the parts' trees (see the
    module's docstring), and what a tagged PDF declares: /MarkInfo and PDF/UA metadata."""
    merger = _Merger(writer, lang)
    for number, part in enumerate(parts):
        if is_tagged(part.reader):
            _TaggedPart(merger, part, f"p{number + 1}-").copy()
        else:
            merger.untagged(part)
    merger.finish(title)


class _Merger:
    """The merged tree as it grows: the /Document element's kids and the parent tree."""

    def __init__(self, writer: PdfWriter, lang: str):
        self.writer = writer
        self.lang = lang
        self.root = writer._add_object(DictionaryObject({
            NameObject("/Type"): NameObject("/StructTreeRoot")}))
        self.document = writer._add_object(DictionaryObject({
            NameObject("/Type"): NameObject("/StructElem"),
            NameObject("/S"): NameObject("/Document"),
            NameObject("/P"): self.root,
        }))
        self.kids: list[IndirectObject] = []
        self.nums: list[PdfObject] = []
        self.next_key = 0
        self.role_map = DictionaryObject()
        self.class_map = DictionaryObject()
        self.ids: dict[str, IndirectObject] = {}

    def adopt(self, kid: IndirectObject) -> None:
        cast(DictionaryObject, kid.get_object())[NameObject("/P")] = self.document
        self.kids.append(kid)

    def parent_entry(self, value: PdfObject) -> int:
        key = self.next_key
        self.next_key += 1
        self.nums += [NumberObject(key), value]
        return key

    def page_entry(self, page: PageObject, claimed: dict[int, IndirectObject]) -> None:
        """The parent tree's array for a page: element of each MCID, by MCID."""
        if "/StructParents" in page:
            del page["/StructParents"]
        if not claimed:
            return
        array = ArrayObject(claimed.get(i, NullObject()) for i in range(max(claimed) + 1))
        page[NameObject("/StructParents")] = NumberObject(self.parent_entry(array))

    def untagged(self, part: PartPages) -> None:
        """Each page with content becomes a /Figure whose alternative text says what it is."""
        count = len(part.pages)
        for offset in range(count):
            page = self.writer.pages[part.start + offset]
            if not _content(page).strip():
                continue
            existing = page_mcids(page)
            mcid = max(existing, default=-1) + 1
            _wrap(self.writer, page, f"/Figure <</MCID {mcid}>> BDC q\n".encode(), b"\nQ EMC\n")
            where = f", page {offset + 1} of {count}" if count > 1 else ""
            box = page.mediabox
            figure = self.writer._add_object(DictionaryObject({
                NameObject("/Type"): NameObject("/StructElem"),
                NameObject("/S"): NameObject("/Figure"),
                NameObject("/Pg"): page.indirect_reference,
                NameObject("/K"): ArrayObject(NumberObject(m) for m in sorted({*existing, mcid})),
                NameObject("/Alt"): TextStringObject(
                    f"{part.title}{where}: a PDF inserted as it is, without tags; "
                    "its text is not available to assistive technology"),
                NameObject("/A"): DictionaryObject({
                    NameObject("/O"): NameObject("/Layout"),
                    NameObject("/BBox"): ArrayObject(
                        FloatObject(round(float(v), 3)) for v in
                        (box.left, box.bottom, box.right, box.top)),
                }),
            }))
            self.adopt(figure)
            self.page_entry(page, {m: figure for m in {*existing, mcid}})

    def finish(self, title: str) -> None:
        document = cast(DictionaryObject, self.document.get_object())
        document[NameObject("/K")] = ArrayObject(self.kids)
        root = cast(DictionaryObject, self.root.get_object())
        root[NameObject("/K")] = ArrayObject([self.document])
        root[NameObject("/ParentTree")] = self.writer._add_object(DictionaryObject({
            NameObject("/Nums"): ArrayObject(self.nums)}))
        root[NameObject("/ParentTreeNextKey")] = NumberObject(self.next_key)
        if self.role_map:
            root[NameObject("/RoleMap")] = self.role_map
        if self.class_map:
            root[NameObject("/ClassMap")] = self.class_map
        if self.ids:
            names: list[PdfObject] = []
            for key in sorted(self.ids):
                names += [TextStringObject(key), self.ids[key]]
            root[NameObject("/IDTree")] = DictionaryObject({
                NameObject("/Names"): ArrayObject(names)})
        catalog = self.writer.root_object
        catalog[NameObject("/StructTreeRoot")] = self.root
        catalog[NameObject("/MarkInfo")] = DictionaryObject({
            NameObject("/Marked"): BooleanObject(True)})
        catalog[NameObject("/Metadata")] = ua_metadata(self.writer, title, self.lang)


@dataclass
class _Pending:
    """Kids of an element being copied: MCIDs (page, mcid) and annotations it claims, recorded
    against the element once it exists."""

    mcids: list[tuple[IndirectObject, int]] = field(default_factory=list)
    annots: list[IndirectObject] = field(default_factory=list)


_DROPPED = object()
"""The effective page of an element on a page this copy does not have."""


class _TaggedPart:
    """Copies one tagged part's tree into the merged tree."""

    def __init__(self, merger: _Merger, part: PartPages, prefix: str):
        self.merger = merger
        self.writer = merger.writer
        self.part = part
        self.prefix = prefix
        reader = part.reader
        self.pages = [(self.writer.pages[part.start + k], reader.pages[i], i)
                      for k, i in enumerate(part.pages)]
        self.page_map: dict[int, IndirectObject] = {}
        self.annot_map: dict[int, IndirectObject] = {}
        #: MCIDs that paint nothing, by merged page: left out of the tree (see tagfix)
        self.empty: dict[int, set[int]] = {}
        for merged, source, _ in self.pages:
            source_ref = source.indirect_reference
            assert source_ref is not None and merged.indirect_reference is not None
            self.page_map[source_ref.idnum] = merged.indirect_reference
            self.empty[merged.indirect_reference.idnum] = empty_mcids(source)
            ours = _annots(source)
            theirs = _annots(merged)
            if len(ours) == len(theirs):
                for mine, copied in zip(ours, theirs, strict=True):
                    if isinstance(mine, IndirectObject) and isinstance(copied, IndirectObject):
                        self.annot_map[mine.idnum] = copied
        self.claimed: dict[int, dict[int, IndirectObject]] = {}
        self.annots: list[tuple[IndirectObject, IndirectObject]] = []
        self.seen: set[int] = set()

    def copy(self) -> None:
        root = cast(DictionaryObject, self.part.reader.root_object["/StructTreeRoot"].get_object())
        for key, into in (("/RoleMap", self.merger.role_map), ("/ClassMap", self.merger.class_map)):
            found = root.get(key)
            if found is not None:
                for name, value in cast(DictionaryObject, found.get_object()).items():
                    if name not in into:
                        into[NameObject(name)] = _plain(value, self.writer)
        lang = self.part.reader.root_object.get("/Lang")
        own_lang = str(lang.get_object()) if lang is not None else None
        for kid in self._top_level(root):
            copied = self._element(kid, None, 0)
            if copied is None:
                continue
            element = cast(DictionaryObject, copied.get_object())
            if own_lang and own_lang != self.merger.lang and "/Lang" not in element:
                element[NameObject("/Lang")] = TextStringObject(own_lang)
            self.merger.adopt(copied)
        self._parent_tree(root)

    def _top_level(self, root: DictionaryObject) -> list[PdfObject]:
        """The part's top-level elements; a part's own /Document element is unwrapped."""
        kids: list[PdfObject] = []
        for kid in _kids(root):
            element = kid.get_object()
            if isinstance(element, DictionaryObject) and element.get("/S") == "/Document":
                kids.extend(_kids(element))
            else:
                kids.append(kid)
        return kids

    def _page(self, ref: PdfObject | None, inherited: object) -> object:
        if ref is None:
            return inherited
        if isinstance(ref, IndirectObject):
            return self.page_map.get(ref.idnum, _DROPPED)
        return _DROPPED

    def _element(self, ref: PdfObject, inherited: object, depth: int) -> IndirectObject | None:
        """A copy of the element `ref` and its kept kids, added to the writer; None when none
        of it is on this copy's pages."""
        if not isinstance(ref, IndirectObject) or ref.idnum in self.seen or depth > MAX_DEPTH:
            return None
        self.seen.add(ref.idnum)
        source = ref.get_object()
        if not isinstance(source, DictionaryObject):
            return None
        page = self._page(source.get("/Pg"), inherited)
        element = DictionaryObject({NameObject("/Type"): NameObject("/StructElem")})
        for key in _PLAIN_KEYS:
            if key in source:
                element[NameObject(key)] = _plain(source[key], self.writer)
        if "/S" not in element:
            element[NameObject("/S")] = NameObject("/NonStruct")
        raw = _kids(source)
        kids: list[PdfObject] = []
        children: list[IndirectObject] = []
        pending = _Pending()
        for kid in raw:
            resolved = kid.get_object()
            if isinstance(resolved, NumberObject):
                if isinstance(page, IndirectObject) and not self._empty(page, int(resolved)):
                    kids.append(NumberObject(int(resolved)))
                    pending.mcids.append((page, int(resolved)))
            elif isinstance(resolved, DictionaryObject) and resolved.get("/Type") == "/MCR":
                on = self._page(resolved.get("/Pg"), page)
                mcid = int(cast(int, resolved.get("/MCID", -1)))
                if (isinstance(on, IndirectObject) and "/Stm" not in resolved
                        and not self._empty(on, mcid)):
                    kids.append(DictionaryObject({
                        NameObject("/Type"): NameObject("/MCR"),
                        NameObject("/Pg"): on, NameObject("/MCID"): NumberObject(mcid)}))
                    pending.mcids.append((on, mcid))
            elif isinstance(resolved, DictionaryObject) and resolved.get("/Type") == "/OBJR":
                target = resolved.get("/Obj")
                annot = (self.annot_map.get(target.idnum)
                         if isinstance(target, IndirectObject) else None)
                on = self._page(resolved.get("/Pg"), page)
                if annot is not None:
                    objr = DictionaryObject({NameObject("/Type"): NameObject("/OBJR"),
                                             NameObject("/Obj"): annot})
                    if isinstance(on, IndirectObject):
                        objr[NameObject("/Pg")] = on
                    kids.append(objr)
                    pending.annots.append(annot)
            else:
                child = self._element(kid, page, depth + 1)
                if child is not None:
                    kids.append(child)
                    children.append(child)
        if not kids and (raw or page is _DROPPED):
            return None
        if isinstance(page, IndirectObject):
            element[NameObject("/Pg")] = page
        if any(cast(DictionaryObject, a.get_object()).get("/Subtype") == "/Link"
               for a in pending.annots):
            element[NameObject("/S")] = NameObject("/Link")  # a link annotation needs a Link
        element[NameObject("/K")] = ArrayObject(kids)
        self._rename_ids(source, element)
        added = self.writer._add_object(element)
        for child in children:
            cast(DictionaryObject, child.get_object())[NameObject("/P")] = added
        if str(element["/S"]) == "/L":
            element[NameObject("/K")] = ArrayObject(
                regroup_list(kids, self.writer._add_object, added))
        for on, mcid in pending.mcids:
            self.claimed.setdefault(on.idnum, {}).setdefault(mcid, added)
        self.annots += [(annot, added) for annot in pending.annots]
        if "/ID" in element:
            self.merger.ids.setdefault(str(element["/ID"]), added)
        return added

    def _empty(self, page: IndirectObject, mcid: int) -> bool:
        return mcid in self.empty.get(page.idnum, ())

    def _rename_ids(self, source: DictionaryObject, element: DictionaryObject) -> None:
        """IDs are unique per part only: prefix them, and the /Headers that name them."""
        if "/ID" in source:
            element[NameObject("/ID")] = TextStringObject(
                self.prefix + _text(source["/ID"].get_object()))
        attributes = element.get("/A")
        for owner in (attributes if isinstance(attributes, ArrayObject) else [attributes]):
            if isinstance(owner, DictionaryObject) and isinstance(owner.get("/Headers"),
                                                                   ArrayObject):
                owner[NameObject("/Headers")] = ArrayObject(
                    TextStringObject(self.prefix + _text(h.get_object()))
                    for h in cast(ArrayObject, owner["/Headers"]))

    def _parent_tree(self, root: DictionaryObject) -> None:
        """Entries for this part's pages and annotations; marked content the tree does not
        claim becomes an artifact; link annotations get their text as /Contents."""
        source_tree = number_tree(root.get("/ParentTree"))
        for merged, source, index in self.pages:
            assert merged.indirect_reference is not None
            claimed = self.claimed.get(merged.indirect_reference.idnum, {})
            key = source.get("/StructParents")
            listed = source_tree.get(int(cast(int, key))) if key is not None else None
            marked = (
                {i for i, v in enumerate(cast(ArrayObject, listed.get_object()))
                 if not isinstance(v.get_object(), NullObject)}
                if listed is not None and isinstance(listed.get_object(), ArrayObject)
                else set()
            )
            orphans = marked - set(claimed)
            if orphans:
                _artifacts(self.writer, merged, orphans)
            self.merger.page_entry(merged, claimed)
            texts = self.part.link_texts[index] if index < len(self.part.link_texts) else ()
            links = [a for a in _annots(merged)
                     if cast(DictionaryObject, a.get_object()).get("/Subtype") == "/Link"]
            if len(links) == len(texts):
                for link, text in zip(links, texts, strict=True):
                    cast(DictionaryObject, link.get_object())[NameObject("/Contents")] = (
                        TextStringObject(text))
            for annot in _annots(merged):
                found = annot.get_object()
                if isinstance(found, DictionaryObject) and "/StructParent" in found:
                    del found["/StructParent"]
        for annot, element in self.annots:
            key = self.merger.parent_entry(element)
            cast(DictionaryObject, annot.get_object())[NameObject("/StructParent")] = (
                NumberObject(key))


def _kids(element: DictionaryObject) -> list[PdfObject]:
    kids = element.get("/K")
    if kids is None:
        return []
    resolved = kids.get_object()
    return list(resolved) if isinstance(resolved, ArrayObject) else [kids]


def _annots(page: PageObject) -> list[PdfObject]:
    annots = page.get("/Annots")
    if annots is None:
        return []
    resolved = annots.get_object()
    return list(resolved) if isinstance(resolved, ArrayObject) else []


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def _plain(value: PdfObject, writer: PdfWriter, depth: int = 0) -> PdfObject:
    """A copy of plain data (names, strings, numbers, arrays and dictionaries of them) with
    any indirect object resolved: never a reference back into the part's object graph."""
    resolved = value.get_object()
    if depth > 16 or isinstance(resolved, StreamObject):
        return NullObject()
    if isinstance(resolved, DictionaryObject):
        return DictionaryObject({NameObject(k): _plain(v, writer, depth + 1)
                                 for k, v in resolved.items()})
    if isinstance(resolved, ArrayObject):
        return ArrayObject(_plain(v, writer, depth + 1) for v in resolved)
    return cast(PdfObject, resolved).clone(writer)


def _artifacts(writer: PdfWriter, page: PageObject, mcids: set[int]) -> None:
    """Marked content with these MCIDs becomes /Artifact (no element claims it)."""
    content = ContentStream(page.get_contents(), writer)
    operations = []
    for operands, operator in content.operations:
        if operator == b"BDC" and len(operands) == 2:
            properties = operands[1].get_object() if hasattr(operands[1], "get_object") else None
            if isinstance(properties, DictionaryObject) and int(
                    cast(int, properties.get("/MCID", -1))) in mcids:
                operations.append(([NameObject("/Artifact")], b"BMC"))
                continue
        operations.append((operands, operator))
    content.operations = operations
    page.replace_contents(content)


def ua_metadata(writer: PdfWriter, title: str, lang: str) -> IndirectObject:
    """XMP metadata that declares PDF/UA-1 (pdfuaid:part) and carries the title, as PDF/UA
    asks. A later step that writes its own XMP (PDF/A) must keep the pdfuaid entry."""
    xmp = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">
<pdfuaid:part>1</pdfuaid:part>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>
<dc:language><rdf:Bag><rdf:li>{escape(lang)}</rdf:li></rdf:Bag></dc:language>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()
    return metadata_stream(writer, xmp)
