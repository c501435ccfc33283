"""Repairs of WeasyPrint's tags that PDF/UA validators reject, made while the tree is merged.

Two patterns that `page` (PDFUA1-L-KIDS-001, PDFUA1-LI-PARENT-001) and `outloud` (LST-001,
LST-003, and empty elements a screen reader announces as nothing) find in WeasyPrint's tags:

- a definition list `<dl><div><dt>…</dt><dd>…</dd></div>…</dl>` becomes `L > Div > LI` (WeasyPrint
  tags `dt` and `dd` as list items and the grouping `div` as a Div): `regroup_list` makes each
  such Div one list item, its `dt` the item's label (Lbl) and its `dd` the item's body (LBody),
  which is what ISO 32000-1 14.8.4.3.3 says a list item is; any other non-item kid of a list is
  wrapped in LI > LBody. Only element types change and wrappers are added: the elements that own
  marked content stay as they are, so the parent tree built from them stays right.
- marked content that paints nothing (whitespace between blocks, the pseudo-element a `<wbr>`
  leaves) still gets an MCID and an element, e.g. `L > Span` or `NonStruct > Span` holding "":
  `empty_mcids` finds them so the merge leaves them out of the tree (they become artifacts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from pypdf import PageObject
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
)

#: operators that put something on the page (text, paths, images, shadings)
_PAINTING = {b"Tj", b"TJ", b"'", b'"', b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b",
             b"b*", b"sh", b"Do", b"BI", b"INLINE IMAGE"}
#: what may be a kid of a list element (ISO 32000-1 table 336)
_LIST_KIDS = ("/LI", "/L", "/Caption")


def empty_mcids(page: PageObject) -> set[int]:
    """MCIDs of marked-content sequences on `page` that contain no painting operator."""
    try:
        content = ContentStream(page.get_contents(), None)
    except Exception:  # an unreadable stream: claim nothing is empty
        return set()
    empty: set[int] = set()
    stack: list[tuple[int | None, bool]] = []  # (MCID or None, painted) per open sequence
    for operands, operator in content.operations:
        if operator in (b"BDC", b"BMC"):
            mcid = None
            if operator == b"BDC" and len(operands) == 2:
                properties = operands[1]
                properties = properties.get_object() if hasattr(properties, "get_object") \
                    else properties
                if isinstance(properties, DictionaryObject) and "/MCID" in properties:
                    mcid = int(cast(int, properties["/MCID"]))
            stack.append((mcid, False))
        elif operator == b"EMC" and stack:
            mcid, painted = stack.pop()
            if mcid is not None and not painted:
                empty.add(mcid)
            if painted and stack:
                stack[-1] = (stack[-1][0], True)
        elif operator in _PAINTING and stack:
            stack[-1] = (stack[-1][0], True)
    return empty


def _element(ref: PdfObject) -> DictionaryObject | None:
    resolved = ref.get_object()
    if isinstance(resolved, DictionaryObject) and resolved.get("/Type") == "/StructElem":
        return resolved
    return None


def _element_kids(element: DictionaryObject) -> list[IndirectObject]:
    kids = element.get("/K")
    resolved = kids.get_object() if kids is not None else None
    items = list(resolved) if isinstance(resolved, ArrayObject) else []
    return [k for k in items if isinstance(k, IndirectObject) and _element(k) is not None]


def regroup_list(kids: list[PdfObject], new: Callable[[DictionaryObject], IndirectObject],
                 parent: IndirectObject | None = None) -> list[PdfObject]:
    """The kids of a list element as list items (see the module docstring). `new` adds an
    element to the file; `parent` is the list itself when it already exists (else the caller
    sets /P on the returned kids)."""
    regrouped: list[PdfObject] = []
    for kid in kids:
        element = _element(kid)
        if element is None or element.get("/S") in _LIST_KIDS:
            regrouped.append(kid)
            continue
        items = _element_kids(element)
        if items and all(cast(DictionaryObject, i.get_object()).get("/S") == "/LI"
                         for i in items):
            # <div><dt>…</dt><dd>…</dd></div>: one item, labelled by its term
            element[NameObject("/S")] = NameObject("/LI")
            for position, entry in enumerate(items):
                inner = cast(DictionaryObject, entry.get_object())
                inner[NameObject("/S")] = NameObject("/Lbl" if position == 0 and len(items) > 1
                                                     else "/LBody")
                for nested in _element_kids(inner):
                    found = cast(DictionaryObject, nested.get_object())
                    if found.get("/S") == "/LBody":
                        found[NameObject("/S")] = NameObject("/NonStruct")
            regrouped.append(kid)
            continue
        body = DictionaryObject({NameObject("/Type"): NameObject("/StructElem"),
                                 NameObject("/S"): NameObject("/LBody"),
                                 NameObject("/K"): ArrayObject([kid])})
        if "/Pg" in element:
            body[NameObject("/Pg")] = element["/Pg"]
        body_ref = new(body)
        element[NameObject("/P")] = body_ref
        item = DictionaryObject({NameObject("/Type"): NameObject("/StructElem"),
                                 NameObject("/S"): NameObject("/LI"),
                                 NameObject("/K"): ArrayObject([body_ref])})
        if "/Pg" in element:
            item[NameObject("/Pg")] = element["/Pg"]
        if parent is not None:
            item[NameObject("/P")] = parent
        item_ref = new(item)
        body[NameObject("/P")] = item_ref
        regrouped.append(item_ref)
    return regrouped
