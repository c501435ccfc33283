"""The style of a pseudo-element computed when a box asks for it, not for every element.

WeasyPrint's user-agent stylesheet has rules for six pseudo-elements that match every element
(`::marker`, `::footnote-call`, `::footnote-marker`, `::note-call`, `::note-marker`,
`::note-callback`), so its `StyleFor` makes a computed style for each of them on every
element of the document: six of every seven computed styles of a briefing, which stay in
memory for the whole layout although almost none is ever read (only a list item has a
marker, only a footnote has a call and a marker). At 200 questions that is about 39,000
styles and 8 MB of the 94 MB of Python objects the layout holds, growing with the questions.

`install_pseudo_styles` lets `StyleFor` keep, for those six, what WeasyPrint's own
`set_computed_styles` would read (the pseudo-element's cascaded declarations, its element,
the root, the base URL) and make the style with that very method the first time a box asks
`style_for(element, pseudo_type)`. A computed style is computed lazily from its parent's
anyway (a `ComputedStyle` fills itself in as properties are read), so when it is made does
not change a value: the same bytes (tests/render/test_pseudo_styles.py). A pseudo-element
whose declarations name an anchor is made at once, as WeasyPrint registers anchors while it
makes styles. Installed only over the sources it was written from (recognised by a digest).

The cascaded declarations kept, and the styles made, are shared with equivalent ones
(render/shared_styles.py).
"""

from __future__ import annotations

import threading
from typing import Any

from briefing.render.shared_styles import (
    remember_pseudo_style,
    share_page_style,
    shared_cascade,
    shared_pseudo_style,
)
from briefing.render.sources import source_digest

#: the pseudo-elements WeasyPrint's user-agent stylesheet gives every element
DEFERRED = frozenset(
    {"marker", "footnote-call", "footnote-marker", "note-call", "note-marker", "note-callback"})
#: sha256 of WeasyPrint 70's `StyleFor.set_computed_styles` and `StyleFor.__call__`
KNOWN_SET_SOURCE = "b5b15856b8beff3f49e20ac0309d7b45fb2a5192d826dd65e05b3009b8285c46"
KNOWN_CALL_SOURCE = "96b91915ae7c344a8a4ea9ed112ffa1d7bde9087decb7e9ce723940b849c3936"
_DEFERRED_ATTRIBUTE = "_briefing_deferred_pseudo_styles"
_LOCK = threading.Lock()
#: WeasyPrint's own methods, once replaced
replaced_set: Any = None
replaced_call: Any = None


def set_computed_styles(self: Any, element: Any, parent: Any, root: Any = None,
                        pseudo_type: str | None = None, base_url: Any = None,
                        target_collector: Any = None) -> None:
    """WeasyPrint 70's method; for the six pseudo-elements of an element, kept for later;
    the cascaded declarations a style keeps, shared."""
    if pseudo_type in DEFERRED and parent is element:
        cascaded = self.get_cascaded_styles().get((element, pseudo_type))
        if cascaded is not None and "anchor" not in cascaded:
            # every pseudo-element of the document is made with the same root, base URL and
            # collector: kept once, beside each one's cascaded declarations
            shared = (root, base_url, target_collector)
            kept = self.__dict__.setdefault(_DEFERRED_ATTRIBUTE, (shared, {}))
            if kept[0] == shared:
                kept[1].setdefault(pseudo_type, {})[element] = shared_cascade(self, cascaded)
                return
    replaced_set(self, element, parent, root, pseudo_type, base_url, target_collector)
    if isinstance(element, tuple):  # a page type, whose dict gets declarations for every page
        share_page_style(self, element, pseudo_type)
        return
    computed = self.get_computed_styles().get((element, pseudo_type))
    if computed is not None:
        computed.cascaded = shared_cascade(self, computed.cascaded)


def style_for(self: Any, element: Any, pseudo_type: str | None = None) -> Any:
    """WeasyPrint 70's `StyleFor.__call__`; a kept pseudo-element's style made first."""
    if pseudo_type in DEFERRED:
        kept = self.__dict__.get(_DEFERRED_ATTRIBUTE)
        cascaded = kept[1].get(pseudo_type, {}).pop(element, None) if kept else None
        if cascaded is not None and (style := shared_pseudo_style(
                self, element, pseudo_type, cascaded)) is not None:
            self.get_computed_styles()[element, pseudo_type] = style
        elif cascaded is not None:
            root, base_url, target_collector = kept[0]
            cascaded_styles = self.get_cascaded_styles()
            # what WeasyPrint's method reads, put back for it (cleared after the cascade)
            cascaded_styles[element, pseudo_type] = cascaded
            try:
                replaced_set(self, element, element, root, pseudo_type, base_url,
                             target_collector)
            finally:
                del cascaded_styles[element, pseudo_type]
            remember_pseudo_style(self, element, pseudo_type, cascaded)
    return replaced_call(self, element, pseudo_type)


def install_pseudo_styles() -> bool:
    """Put both methods in place over the sources they were written from, or neither (one
    without the other would lose the kept styles); whether they are."""
    from weasyprint.css import StyleFor

    global replaced_set, replaced_call
    with _LOCK:
        current_set, current_call = StyleFor.set_computed_styles, StyleFor.__call__
        if current_set is set_computed_styles and current_call is style_for:
            return True  # in place: no source read again on every layout
        own_set = replaced_set if current_set is set_computed_styles else current_set
        own_call = replaced_call if current_call is style_for else current_call
        if (source_digest(own_set) != KNOWN_SET_SOURCE
                or source_digest(own_call) != KNOWN_CALL_SOURCE):
            StyleFor.set_computed_styles, StyleFor.__call__ = own_set, own_call
            return False
        replaced_set, replaced_call = own_set, own_call
        StyleFor.set_computed_styles = set_computed_styles
        StyleFor.__call__ = style_for
        return True
