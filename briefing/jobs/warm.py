"""Warm rebuilds in a running process (`reuse=True`: the preview, a library caller): what
an earlier build made from the same inputs is handed back instead of being made again.

render/pdf.py keeps laid-out parts; this keeps the two steps after layout that cost the most
on an unchanged rebuild: the merge of the parts (pypdf) and the profile's finishing (the
screen profile re-reads the whole file). Both are pure functions of their inputs' bytes, so
the key is a digest of those bytes and of every setting, and the result is the same bytes a
cold build writes.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TypeVar

from briefing.assemble.merge import Placed

T = TypeVar("T")

#: results by the digest of what they were made from, the most recent last
_MADE: OrderedDict[str, object] = OrderedDict()
#: a preview of a few documents and packs: enough for each of them, bounded for a long session
_MADE_MAX = 32
_LOCK = threading.Lock()


def placed_ingredients(parts: Iterable[Placed]) -> list[object]:
    """What the merge reads of each placed part: its file and where it goes (the anchors
    come from the same layout as the file, so the bytes stand for them)."""
    found: list[object] = []
    for placed in parts:
        found.extend((placed.part.pdf, (placed.namespace, placed.label, placed.pages)))
    return found


def remembered(reuse: bool, ingredients: Iterable[object], make: Callable[[], T]) -> T:
    """`make()`, or with `reuse` what it returned before for the same `ingredients` (bytes
    as they are; anything else by its repr, so only values with a faithful repr: frozen
    dataclasses, tuples, strings, numbers). A `make` that raises remembers nothing."""
    if not reuse:
        return make()
    digest = hashlib.sha256()
    for item in ingredients:
        data = item if isinstance(item, bytes) else repr(item).encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    key = digest.hexdigest()
    with _LOCK:
        if key in _MADE:
            _MADE.move_to_end(key)
            return _MADE[key]  # type: ignore[return-value]
    made = make()
    with _LOCK:
        _MADE[key] = made
        while len(_MADE) > _MADE_MAX:
            _MADE.popitem(last=False)
    return made
