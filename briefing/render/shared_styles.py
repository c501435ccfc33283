"""One computed style for each set of equivalent elements, and one dict for each set of
cascaded declarations: a briefing's styles shared as far as their values allow.

WeasyPrint 70 shares an element's computed style with the earlier elements that have the
same parent style, the same style attributes and the same matched rules. Its cascade gives
an element with an `id` a declaration of its own (`-weasy-anchor`), so that element's style
is its own, and so is the style of everything inside it, since the key holds the parent's
style by identity. Every question of a briefing has an id: at 500 questions its 4,357
element styles were nearly all unique, each computed again, property by property, as the
layout read it, and each holding its values for the whole layout (with its anonymous style
and its cascaded declarations) — about a fifth of the Python memory a large layout holds.

`share_equivalent_styles`, run once WeasyPrint's `StyleFor` has made its styles and before
any box is built, gives equivalent elements one style. Two elements are equivalent when
their cascaded declarations are the same and their parents are equivalent, ignoring the
parent's `anchor`: a computed value is a function of the element's cascaded declarations
and its parent's computed values only (WeasyPrint 70's `ComputedStyle` knows no element),
and `anchor` is not inherited, so a child never reads its parent's unless it says
`anchor: inherit`, which turns the ignoring off for the whole document. Pseudo-elements
made with the elements are shared the same way, and the six made later when a box asks
(render/pseudo_styles.py) are shared by `shared_pseudo_style`. The values are the same, so
the PDF is the same, byte for byte (tests/render/test_shared_styles.py).

`shared_cascade` gives each distinct set of cascaded declarations one dict, keyed by each
declaration's name, the identity of its value and its weight: equal keys mean equal dicts,
and a dict nobody writes to after the cascade can be shared (WeasyPrint's
`ComputedStyle.copy` already shares its own). At 200 questions: 6 distinct dicts for the
18,000 pseudo-elements kept for later, 514 for the 4,036 computed styles. A dict with an
anchor is its element's own and is not looked up. A page's declarations, added again to its
dict for every page, are not shared; its style is (`share_page_style`).

WeasyPrint also makes a style for every page type it meets, and a page type is a page's
number as well as its side, name and blankness: a style for the page and one for each of its
18 margin boxes and areas, for every page of the document (3,553 styles at 500 questions, 187
pages). `share_page_style` gives a page type's styles those of an earlier page type with the
same declarations and parent style (38 styles at 500 questions), except the first page's:
WeasyPrint sets the viewport's size, for viewport units, while it makes that page. What
WeasyPrint writes into a page's style afterwards (its `overflow`, its page counters) is the
same for every page, so a shared style gets the same values.

Installed only over the sources it was written for (WeasyPrint 70's `StyleFor.__init__` and
the page layout functions that make and write into page styles, by digest).
"""

from __future__ import annotations

import threading
from typing import Any

from briefing.render.sources import source_digest

#: sha256 of WeasyPrint 70's `StyleFor.__init__`, and of the page layout functions that make
#: and write into page styles
KNOWN_SOURCES = {
    "__init__": "b1e725a7552502aa00f0bc07aec79c1aa49365b107a889085161f8d6a4c4a836",
    "make_page": "656f183328e8b1b56311a342621442056c067422958dcaf6730acdfb6c7b8971",
    "_standardize_page_based_counters":
        "6c3791760c3fbe13e13bf08c4822d9857a163a2bbeecda3466b540f28500ebd0",
    "set_page_type_computed_styles":
        "4e68b396b35c4a0640453f413be69acdc81a82b37e0f806fd00999c937a126bb",
}
_SHARED_CASCADES = "_briefing_shared_cascades"
_SHARED_IDS = "_briefing_shared_cascade_ids"
_PSEUDO_STYLES = "_briefing_shared_pseudo_styles"
_PAGE_STYLES = "_briefing_shared_page_styles"
_LOCK = threading.Lock()
#: WeasyPrint's own `StyleFor.__init__`, once replaced
replaced_init: Any = None


def shared_cascade(style_for: Any, cascaded: dict[str, Any]) -> dict[str, Any]:
    """The one dict of `style_for`'s document equal to `cascaded`: the first one seen with
    the same declarations (names, values by identity, weights), or `cascaded` itself."""
    if "anchor" in cascaded:  # an anchor names one element: its declarations are its own
        return cascaded
    state = style_for.__dict__
    ids: set[int] = state.setdefault(_SHARED_IDS, set())
    if id(cascaded) in ids:
        return cascaded
    try:
        key = tuple([(name, id(values), weight) for name, (values, weight) in cascaded.items()])
        # the table keeps each dict, and so each value, alive: no identity is reused
        shared: dict[str, Any] = state.setdefault(_SHARED_CASCADES, {}).setdefault(key, cascaded)
    except TypeError:  # a weight that cannot be hashed (a style attribute's): not shared
        return cascaded
    ids.add(id(shared))
    return shared


def _inherits_anchor(cascaded: dict[str, Any]) -> bool:
    value = cascaded.get("anchor")
    return value is not None and value[0] == "inherit"


def share_equivalent_styles(style_for: Any, root: Any) -> None:
    """Give equivalent elements and pseudo-elements of the tree under `root` one computed
    style (see the module's docstring): the first one in tree order."""
    computed = style_for.get_computed_styles()
    ignore_anchor = not any(_inherits_anchor(style.cascaded) for key, style in computed.items()
                            if not isinstance(key[0], tuple))
    # an element's context: its parent's context and its parent's declarations (without
    # its anchor), numbered; equal numbers, equal inherited values
    contexts: dict[tuple[int, int], int] = {}
    children_context: dict[Any, int] = {}
    representatives: dict[tuple[Any, ...], Any] = {}
    stack = [(root, 0)]
    while stack:
        element, context = stack.pop()
        style = computed.get((element, None))
        if style is None:
            continue
        cascaded = shared_cascade(style_for, style.cascaded)
        representative = representatives.setdefault((context, id(cascaded)), style)
        if representative is not style:
            computed[element, None] = representative
        inherited = cascaded
        if ignore_anchor and "anchor" in cascaded:
            inherited = shared_cascade(
                style_for, {name: value for name, value in cascaded.items() if name != "anchor"})
        number = contexts.setdefault((context, id(inherited)), len(contexts) + 1)
        children_context[element] = number
        stack.extend((child, number) for child in reversed(element))
    pseudo = [(key, style) for key, style in computed.items()
              if key[1] is not None and key[0] in children_context]
    for (element, pseudo_type), style in pseudo:
        cascaded = shared_cascade(style_for, style.cascaded)
        representative = representatives.setdefault(
            (children_context[element], pseudo_type, id(cascaded)), style)
        if representative is not style:
            computed[element, pseudo_type] = representative


def share_page_style(style_for: Any, page_type: Any, pseudo_type: str | None) -> None:
    """Give the style just made for a page type (or one of its margin boxes) the style an
    earlier page type with the same declarations and parent style was given. Not the first
    page's: WeasyPrint sets the viewport's size while it makes that page."""
    if replaced_init is None or page_type.index == 0:  # not installed; the first page
        return
    computed = style_for.get_computed_styles()
    style = computed.get((page_type, pseudo_type))
    if style is None:
        return
    try:
        # a page rule's weight holds its specificity as a list
        key = (pseudo_type, id(style.parent_style), tuple(
            [(name, id(values), precedence, layer, tuple(specificity))
             for name, (values, (precedence, layer, specificity)) in style.cascaded.items()]))
        # the parent styles and the values stay alive with the document's styles
        earlier = style_for.__dict__.setdefault(_PAGE_STYLES, {}).setdefault(key, style)
    except (TypeError, ValueError):  # a weight of another shape: not shared
        return
    if earlier is not style:
        computed[page_type, pseudo_type] = earlier


def shared_pseudo_style(style_for: Any, element: Any, pseudo_type: str,
                        cascaded: dict[str, Any]) -> Any:
    """The computed style an earlier, equivalent pseudo-element was given (same element
    style, same cascaded declarations), or None."""
    parent = style_for.get_computed_styles().get((element, None))
    found: dict[tuple[int, str, int], Any] = style_for.__dict__.setdefault(_PSEUDO_STYLES, {})
    return found.get((id(parent), pseudo_type, id(cascaded)))


def remember_pseudo_style(style_for: Any, element: Any, pseudo_type: str,
                          cascaded: dict[str, Any]) -> None:
    """Keep the pseudo-element style just made for `shared_pseudo_style` (its parent style
    and cascaded dict stay alive with the document's styles: no identity is reused)."""
    computed = style_for.get_computed_styles()
    style = computed.get((element, pseudo_type))
    if style is not None:
        found = style_for.__dict__.setdefault(_PSEUDO_STYLES, {})
        parent = computed.get((element, None))
        found.setdefault((id(parent), pseudo_type, id(cascaded)), style)


def style_for_init(self: Any, html: Any, *args: Any, **kwargs: Any) -> None:
    """WeasyPrint 70's `StyleFor.__init__`, then equivalent styles shared."""
    replaced_init(self, html, *args, **kwargs)
    share_equivalent_styles(self, html.etree_element)


def install_shared_styles() -> bool:
    """Put `style_for_init` in place, and let page styles be shared, over the sources they
    were written for; whether they are."""
    from weasyprint.css import StyleFor
    from weasyprint.layout import page

    global replaced_init
    with _LOCK:
        current = StyleFor.__init__
        if current is style_for_init:
            return True
        found = {"__init__": source_digest(current)} | {
            name: source_digest(getattr(page, name)) for name in KNOWN_SOURCES
            if name != "__init__"}
        if found != KNOWN_SOURCES:
            return False
        replaced_init = current
        StyleFor.__init__ = style_for_init
        return True
