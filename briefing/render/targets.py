"""Page-number references (`target-counter()`): each page laid out as few times as needed,
in time linear in the number of references.

Every contents entry, every link to another question and every note's back-link prints the
page of its target with `target-counter(attr(data-target), page)`. WeasyPrint 70 handles
these with two faults that this module repairs, each installed only over the very source it
was written from (recognised by a digest: another WeasyPrint keeps its own):

- **Quadratic page caching.** While paginating, `TargetCollector.cache_target_page_counters`
  runs for each anchor laid out on a page and, when that anchor's page changed, walks *every*
  counter lookup of the document to find the few that name it: contents × anchors (at 1,000
  questions 7 % of the whole build, more beyond). The replacement keeps an index from anchor
  to the lookups that name it and visits those in WeasyPrint's order.
- **A page laid out twice more than needed.** `compute_content_list` names a target given by
  `attr()` `None` (it names the token, not the attribute's value) and, by rebinding a local
  name, files the target's missing `page` counter as a counter of the page the reference
  itself is on. So WeasyPrint cannot tell a reference when its target's page is known, and
  instead re-parses it whenever *any* counter of its own page changes; the total page count
  changes once after the first pass, so every page holding a reference was laid out three
  times (the seed's contents page: 6 page layouts for 4 pages). `collect_missing_counters`
  is given the lists WeasyPrint meant, recomputed from the `content` value where that is
  exact (no `counter()` in it; otherwise WeasyPrint's own lists are kept), and a target
  whose page counters changed only in `pages` no longer re-parses references that print
  only its `page`.

A warm rebuild (the preview's) also starts from a **guess**: the page of each anchor as the
last layout of the same part left it (`guessed_pages`). A reference prints its target's
guessed page from the start, so a page with references to targets further on needs no second
layout when the guess holds; where it does not, WeasyPrint's own comparison, once the target
is laid out, lays out again every page whose references guessed wrong, as it does for a page
that printed no number at first. A guess can cost a layout, never a wrong number.

The repaired lookups print the same numbers; tests/render/test_targets.py compares the bytes
with WeasyPrint's own methods (and those of a guessed layout, right or wrong, with a cold
one) and counts the page layouts.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from briefing.render.sources import source_digest

#: sha256 of the sources of WeasyPrint 70's methods and function this module repairs
KNOWN_SOURCE = "545eb30bb50f0e4921f6405ed31cfcc20bb92f32c85b549fe81507cbf27d6dee"
KNOWN_COLLECT_SOURCE = "24ea43be86560c9db5b931269d67af82528cb44a8ced2a25e57036859bebe0cc"
KNOWN_CONTENT_LIST_SOURCE = "3a5674cabd84f48ae9247650a73ad3c0fe690c10a3b7fb0ff6209f8b4b0bf671"
KNOWN_ANCHOR_SOURCE = "e016cc3f10624811065a00de286bb6822c555e1e1491aacd4432bdf6f4db425e"
_INDEX = "_briefing_lookups_by_anchor"
#: WeasyPrint's own methods, once replaced (the tests compare them with the repairs)
replaced: Any = None
replaced_collect: Any = None
replaced_anchor: Any = None

#: the layout running in this context: each anchor's page counters as guessed, and as laid out
_PAGES: ContextVar[tuple[Mapping[str, Any], dict[str, Any]] | None] = ContextVar(
    "briefing_guessed_pages", default=None)


@contextmanager
def guessed_pages(guess: Mapping[str, Any] | None) -> Iterator[dict[str, Any]]:
    """Lay out with each anchor's page counters guessed as `guess` has them (the last layout
    of the same part; None: nothing guessed); yields what this layout leaves them at, the
    guess for the next one, filled in once the layout is done."""
    found: dict[str, Any] = {}
    token = _PAGES.set((guess or {}, found))
    try:
        yield found
    finally:
        _PAGES.reset(token)


def collect_anchor(self: Any, anchor_name: Any) -> None:
    """WeasyPrint 70's method; a new anchor starts from its guessed page counters."""
    new = isinstance(anchor_name, str) and anchor_name not in self.target_lookup_items
    replaced_anchor(self, anchor_name)
    pages = _PAGES.get()
    if new and pages is not None and anchor_name in pages[0]:
        item = self.target_lookup_items[anchor_name]
        item.cached_page_counter_values = copy.deepcopy(pages[0][anchor_name])


def cache_target_page_counters(self: Any, anchor_name: str, page_counter_values: Any,
                               page_maker_index: int, page_maker: Any) -> None:
    """WeasyPrint 70's method, visiting only the lookups of `anchor_name`."""
    # Only store page counters when paginating
    if self.collecting:
        return
    item = self.target_lookup_items.get(anchor_name)
    if item and item.state == "up-to-date":
        item.page_maker_index = page_maker_index
        before = item.cached_page_counter_values
        if before != page_counter_values:
            item.cached_page_counter_values = copy.deepcopy(page_counter_values)
            # Spread the news: update boxes affected by a change in the anchor's page
            # counter values (those with a missing target counter for it, in order).
            for lookup in _lookups_of(self, anchor_name):
                # WeasyPrint's own test stops at "not None": a reference printing only the
                # target's `page` was parsed and laid out again when only `pages` changed,
                # which it does once for every target after the first pass, and a guessed
                # page that held would count as changed
                if not any(
                    (value := page_counter_values.get(counter_name)) is not None
                    and value != before.get(counter_name)
                    for counter_name in lookup.missing_target_counters[anchor_name]
                ):
                    continue
                # Pending marker for remake_page
                if (lookup.page_maker_index is None
                        or lookup.page_maker_index >= len(page_maker)):
                    lookup.pending = True
                    continue
                remake_state = page_maker[lookup.page_maker_index][-1]
                remake_state["content_changed"] = True
                lookup.parse_again(lookup.cached_page_counter_values)
        pages = _PAGES.get()
        if pages is not None:
            pages[1][anchor_name] = item.cached_page_counter_values


def _lookups_of(collector: Any, anchor_name: str) -> list[Any]:
    """The `content` lookups with a missing target counter for `anchor_name`, in the order
    of `counter_lookup_items`; the index is made again if a lookup was added since."""
    items = collector.counter_lookup_items
    found = collector.__dict__.get(_INDEX)
    if found is None or found[0] != len(items):
        by_anchor: dict[str, list[Any]] = {}
        for (_, css_token), lookup in items.items():
            if css_token == "content":
                for name in lookup.missing_target_counters:
                    by_anchor.setdefault(name, []).append(lookup)
        found = collector.__dict__[_INDEX] = (len(items), by_anchor)
    lookups: list[Any] = found[1].get(anchor_name, [])
    return lookups


def collect_missing_counters(self: Any, parent_box: Any, css_token: str,
                             parse_again_function: Any, missing_counters: list[str],
                             missing_target_counters: dict[Any, list[str]]) -> None:
    """WeasyPrint 70's method, given the missing counters `compute_content_list` meant."""
    if self.collecting and css_token == "content":
        meant = _meant_missing_counters(self, parent_box)
        if meant is not None and _same_counters(meant, missing_counters,
                                                missing_target_counters):
            missing_counters, missing_target_counters = [], meant
    replaced_collect(self, parent_box, css_token, parse_again_function, missing_counters,
                     missing_target_counters)


def _meant_missing_counters(collector: Any, box: Any) -> dict[str, list[str]] | None:
    """The target counters `box`'s `content` misses, by the name of each target, as
    `compute_content_list` walks them (stopping where it stops: at a target not laid out
    yet); None where its own lists could hold more than that (a `counter()` or
    `counters()`, whose missing names it files in whichever list it last named)."""
    content = box.style["content"]
    if not isinstance(content, (list, tuple)):
        return None
    meant: dict[str, list[str]] = {}
    for kind, value in content:
        if kind in ("counter()", "counters()"):
            return None
        if kind not in ("target-counter()", "target-counters()", "target-text()"):
            continue
        if kind != "target-text()" and value[-1] == "none":
            continue
        name = _target_name(value[0], box)
        item = collector.target_lookup_items.get(name)
        if item is None or item.state != "up-to-date":
            break
        if kind == "target-text()":
            continue
        counter_name = value[1]
        if counter_name not in item.target_box.cached_counter_values:
            found = meant.setdefault(name, [])
            if counter_name not in found:
                found.append(counter_name)
        if kind == "target-counters()" and value[2][0] != "string":
            break
    return meant


def _target_name(token: Any, box: Any) -> Any:
    """The anchor a target token names for `box`, as `TargetCollector.lookup_target` reads
    it (an `attr()` read from the box's element)."""
    from weasyprint.css.targets import anchor_name_from_token
    from weasyprint.urls import get_url_tuple

    if token[0] == "attr()":
        attribute, kind, fallback = token[1]
        value = box.element.get(attribute, fallback)
        if kind == "string":
            token = ("string", value)
        elif kind == "url":
            token = ("url", get_url_tuple(value, box.style.base_url))
    return anchor_name_from_token(token)


def _same_counters(meant: dict[str, list[str]], missing_counters: list[str],
                   missing_target_counters: dict[Any, list[str]]) -> bool:
    """Whether the repaired lists name the very counters WeasyPrint's do, only filed
    differently: anything else and WeasyPrint's own lists are kept."""
    theirs = {*missing_counters, *(c for found in missing_target_counters.values()
                                   for c in found)}
    return theirs == {c for found in meant.values() for c in found}


def install_target_counters() -> bool:
    """Put the repairs in place over the sources they were written from, each on its own;
    whether both are in place."""
    from weasyprint.css.targets import TargetCollector
    from weasyprint.formatting_structure import build

    global replaced, replaced_collect, replaced_anchor
    current = TargetCollector.cache_target_page_counters
    if current is not cache_target_page_counters and source_digest(current) == KNOWN_SOURCE:
        replaced = current
        TargetCollector.cache_target_page_counters = cache_target_page_counters
    collect = TargetCollector.collect_missing_counters
    if (collect is not collect_missing_counters
            and source_digest(collect) == KNOWN_COLLECT_SOURCE
            and source_digest(build.compute_content_list) == KNOWN_CONTENT_LIST_SOURCE):
        replaced_collect = collect
        TargetCollector.collect_missing_counters = collect_missing_counters
    anchor = TargetCollector.collect_anchor
    if anchor is not collect_anchor and source_digest(anchor) == KNOWN_ANCHOR_SOURCE:
        replaced_anchor = anchor
        TargetCollector.collect_anchor = collect_anchor
    return (TargetCollector.cache_target_page_counters is cache_target_page_counters
            and TargetCollector.collect_missing_counters is collect_missing_counters
            and TargetCollector.collect_anchor is collect_anchor)
