"""Each stylesheet's text parsed once per process, not once per layout.

Every layout carries the theme's stylesheets in `<style>` elements, and WeasyPrint's `CSS`
parses each with tinycss2 again: about 40 ms of each warm rebuild of the seed (the preview's),
and of each part of a pack, for the same few texts. tinycss2's parse is a pure function of the
text; what WeasyPrint does with the rules afterwards (media queries, @font-face, @page, the
selectors) is done for every layout as before, from the same rule objects a fresh parse
gives. Those objects are shared by every element a rule applies to within one layout already,
so sharing them between layouts asks nothing new of WeasyPrint.

`install_parsed_css` puts a remembering `parse_stylesheet` in front of tinycss2 for WeasyPrint's
`CSS` class only (the name it looks up in `weasyprint/__init__.py`); nobody else's tinycss2
changes.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.Lock()


class RememberingTinycss2:
    """tinycss2 as WeasyPrint's `CSS` sees it: `parse_stylesheet` of a text it parsed before
    returns the rules it gave then (a new list of them); everything else is tinycss2's own."""

    def __init__(self, tinycss2: Any):
        self._tinycss2 = tinycss2
        self._parse = functools.lru_cache(maxsize=32)(self._parsed)

    def _parsed(self, css: str, skip_comments: bool, skip_whitespace: bool) -> tuple[Any, ...]:
        return tuple(self._tinycss2.parse_stylesheet(
            css, skip_comments=skip_comments, skip_whitespace=skip_whitespace))

    def parse_stylesheet(self, css: str, skip_comments: bool = False,
                         skip_whitespace: bool = False) -> list[Any]:
        return list(self._parse(css, skip_comments, skip_whitespace))

    def cache_info(self) -> Any:
        return self._parse.cache_info()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tinycss2, name)


def install_parsed_css() -> RememberingTinycss2:
    """Give WeasyPrint's `CSS` the remembering parse (idempotent); returns it."""
    import weasyprint

    with _LOCK:
        current = weasyprint.tinycss2
        if not isinstance(current, RememberingTinycss2):
            current = weasyprint.tinycss2 = RememberingTinycss2(current)
    return current
