"""Each stylesheet's text parsed, and each rule's declarations validated, once per process.

Every layout carries the theme's stylesheets in `<style>` elements, and WeasyPrint's `CSS`
parses each with tinycss2 again, then parses each rule's block, compiles its selectors and
validates its declarations again: about 65 ms of each warm rebuild of the seed (the
preview's), and of each part of a pack, for the same few texts. All of that is a pure function
of the text (and of the base URL the values resolve against). What WeasyPrint does with the
results afterwards (media queries, @font-face, @page, matching the selectors, the cascade)
is done for every layout as before, from the same objects a fresh parse gives. Those objects
are shared by every element a rule applies to within one layout already, so sharing them
between layouts asks nothing new of WeasyPrint.

Two things a validation leaves besides its result are given back each time: the warnings it
logged (an ignored declaration: logged again, as a fresh validation would) and the
`_reported_error` flag of a value waiting for its `var()`, which WeasyPrint sets once it has
warned about it (cleared again, so each layout warns once, as before).

`install_parsed_css` puts a remembering tinycss2 in front of WeasyPrint's `CSS` class and its
`css` package (the names they look up), and a remembering `preprocess_declarations` in the
`css` package; nobody else's tinycss2 changes.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

_LOCK = threading.Lock()
#: blocks and rule lists kept by the identity of what they were parsed from
_BY_IDENTITY_MAX = 16384
#: validated declaration blocks kept per thread
_DECLARATIONS_MAX = 4096


class _ParsedByIdentity:
    """`parse(input, skip_comments, skip_whitespace)` remembered: a list of tokens (a rule's
    block, from a remembered stylesheet) by its identity, a string by its text; each call
    gets a new list of the objects the first parse gave."""

    def __init__(self, parse: Callable[..., list[Any]]):
        self._parse = parse
        self._found: OrderedDict[tuple[Any, ...], tuple[Any, tuple[Any, ...]]] = OrderedDict()
        self.hits = self.misses = 0

    def __call__(self, input: Any, skip_comments: bool = False,
                 skip_whitespace: bool = False) -> list[Any]:
        if isinstance(input, str):
            key: tuple[Any, ...] = (input, skip_comments, skip_whitespace)
        elif isinstance(input, list):
            # the entry holds `input`, so no other object can have its id while it is kept
            key = (id(input), skip_comments, skip_whitespace)
        else:
            return self._parse(input, skip_comments, skip_whitespace)
        with _LOCK:
            found = self._found.get(key)
            if found is not None:
                self._found.move_to_end(key)
                self.hits += 1
                return list(found[1])
        parsed = tuple(self._parse(input, skip_comments, skip_whitespace))
        with _LOCK:
            self.misses += 1
            self._found[key] = (input, parsed)
            while len(self._found) > _BY_IDENTITY_MAX:
                self._found.popitem(last=False)
        return list(parsed)


class RememberingTinycss2:
    """tinycss2 as WeasyPrint's `CSS` and `css` package see it: `parse_stylesheet` of a text
    it parsed before returns the rules it gave then (a new list of them), and
    `parse_blocks_contents` and `parse_rule_list` of one of those rules' blocks the
    declarations or rules they gave then; everything else is tinycss2's own."""

    def __init__(self, tinycss2: Any):
        self._tinycss2 = tinycss2
        self._parse = functools.lru_cache(maxsize=32)(self._parsed)
        self.parse_blocks_contents = _ParsedByIdentity(tinycss2.parse_blocks_contents)
        self.parse_rule_list = _ParsedByIdentity(tinycss2.parse_rule_list)

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


class _Recorder(logging.Handler):
    """The records one thread logs while a block is validated."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.thread = threading.get_ident()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.records.append(record)


class _Validated(threading.local):
    """Per thread, as the `var()` flags they carry are set while a layout runs."""

    found: OrderedDict[tuple[Any, ...], tuple[Any, ...]]

    def __init__(self) -> None:
        self.found = OrderedDict()
        self.hits = self.misses = 0


class RememberingDeclarations:
    """WeasyPrint's `preprocess_declarations(base_url, declarations, prelude)` remembered by
    the identity of the declarations and prelude (from a remembered parse), the base URL and
    the log level; a hit logs the warnings the validation logged and clears the flags of the
    values waiting for a `var()`."""

    def __init__(self, preprocess: Callable[..., Iterable[Any]]):
        self._preprocess = preprocess
        self._validated = _Validated()

    def __call__(self, base_url: Any, declarations: Iterable[Any],
                 prelude: Any = None) -> list[Any]:
        from weasyprint.logger import LOGGER

        declarations = list(declarations)
        key = (base_url, LOGGER.getEffectiveLevel(), id(prelude), *map(id, declarations))
        validated = self._validated
        found = validated.found.get(key)
        if found is None:
            recorder = _Recorder()
            LOGGER.addHandler(recorder)
            try:
                result = tuple(self._preprocess(base_url, declarations, prelude))
            finally:
                LOGGER.removeHandler(recorder)
            waiting = tuple(_waiting_for_var(result))
            # the entry holds the prelude and declarations: their ids stay theirs
            found = (prelude, declarations, result, tuple(recorder.records), waiting)
            validated.found[key] = found
            validated.misses += 1
            while len(validated.found) > _DECLARATIONS_MAX:
                validated.found.popitem(last=False)
            return list(result)
        validated.found.move_to_end(key)
        validated.hits += 1
        _, _, result, records, waiting = found
        for record in records:
            LOGGER.handle(record)
        for pending in waiting:
            pending._reported_error = False
        return list(result)

    def cache_info(self) -> tuple[int, int]:
        """(hits, misses) in this thread."""
        return self._validated.hits, self._validated.misses


def _waiting_for_var(result: Iterable[Any]) -> Iterable[Any]:
    from weasyprint.css.tokens import Pending

    for item in result:
        declaration = item[1] if len(item) == 2 else item  # (selectors, declaration)
        if isinstance(declaration[1], Pending):
            yield declaration[1]


def install_parsed_css() -> RememberingTinycss2:
    """Give WeasyPrint's `CSS` and `css` package the remembering parse and validation
    (idempotent); returns the parse."""
    import weasyprint
    import weasyprint.css

    with _LOCK:
        found = weasyprint.tinycss2
        current = found if isinstance(found, RememberingTinycss2) else RememberingTinycss2(found)
        weasyprint.tinycss2 = current
        if weasyprint.css.tinycss2 is not current:
            weasyprint.css.tinycss2 = current
        if not isinstance(weasyprint.css.preprocess_declarations, RememberingDeclarations):
            weasyprint.css.preprocess_declarations = RememberingDeclarations(
                weasyprint.css.preprocess_declarations)
    return current
