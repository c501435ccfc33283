"""Page-number references (`target-counter()`) in time linear in their number.

Every contents entry and every note's back-link prints the page of its target with
`target-counter()`. While paginating, WeasyPrint's `TargetCollector.cache_target_page_counters`
runs for each anchor laid out on a page and, when that anchor's page changed, walks *every*
counter lookup of the document to find the few that name it: contents × anchors, quadratic
in the questions (at 1,000 questions 7 % of the whole build, more beyond).

`install_linear_target_counters` gives the collector an index from anchor to the lookups
that name it, built once pagination starts (no lookup is added after), and visits those in
the order WeasyPrint would: the same boxes re-laid out, the same bytes written
(tests/render/test_targets.py compares them). The replacement is installed only over the
method it was written from, recognised by a digest of its source: another WeasyPrint keeps
its own.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
from typing import Any

#: sha256 of WeasyPrint 70's `TargetCollector.cache_target_page_counters` source
KNOWN_SOURCE = "545eb30bb50f0e4921f6405ed31cfcc20bb92f32c85b549fe81507cbf27d6dee"
_INDEX = "_briefing_lookups_by_anchor"
#: WeasyPrint's own method, once replaced (the tests compare the two)
replaced: Any = None


def cache_target_page_counters(self: Any, anchor_name: str, page_counter_values: Any,
                               page_maker_index: int, page_maker: Any) -> None:
    """WeasyPrint 70's method, visiting only the lookups of `anchor_name`."""
    # Only store page counters when paginating
    if self.collecting:
        return
    item = self.target_lookup_items.get(anchor_name)
    if item and item.state == "up-to-date":
        item.page_maker_index = page_maker_index
        if item.cached_page_counter_values != page_counter_values:
            item.cached_page_counter_values = copy.deepcopy(page_counter_values)
            # Spread the news: update boxes affected by a change in the anchor's page
            # counter values (those with a missing target counter for it, in order).
            for lookup in _lookups_of(self, anchor_name):
                missing_counters = lookup.missing_target_counters[anchor_name]
                # Pending marker for remake_page
                if (lookup.page_maker_index is None
                        or lookup.page_maker_index >= len(page_maker)):
                    lookup.pending = True
                    continue
                for counter_name in missing_counters:
                    if page_counter_values.get(counter_name) is not None:
                        remake_state = page_maker[lookup.page_maker_index][-1]
                        remake_state["content_changed"] = True
                        lookup.parse_again(lookup.cached_page_counter_values)
                        break


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


def source_digest(function: Any) -> str | None:
    try:
        return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()
    except (OSError, TypeError):
        return None


def install_linear_target_counters() -> bool:
    """Replace the collector's method when it is the one this module was written from;
    whether the replacement is in place."""
    from weasyprint.css.targets import TargetCollector

    current = TargetCollector.cache_target_page_counters
    if current is cache_target_page_counters:
        return True
    if source_digest(current) != KNOWN_SOURCE:
        return False
    global replaced
    replaced = current
    TargetCollector.cache_target_page_counters = cache_target_page_counters
    return True
