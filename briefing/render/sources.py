"""The digest of a library function's source, read once per install, not once per process.

Every repair in `render/` is put in place only over the source it was written for, which it
recognises by the sha256 of `inspect.getsource` (a digest that does not depend on the Python
version, as a bytecode one would). But `inspect.getsource` tokenizes the function, and for a
class parses its whole module: the 15 digests a build checks cost about 32 ms of every new
process, 4 % of the seed's whole build.

`source_digest` keeps each digest of a file in the environment's site-packages in
`<sys.prefix>/var/cache/briefing/sources.json` (beside the compiled templates), keyed by the
file's path, modification time and size and the object's name and first line: a file changed
by an upgrade is another key, so its digest is computed again. The file is written whole and
replaced atomically; where it cannot be written, each process computes its digests itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import sys
import sysconfig
import threading
from pathlib import Path
from typing import Any

from briefing.errors import BriefingError
from briefing.output import write_atomic

FILE = Path(sys.prefix) / "var" / "cache" / "briefing" / "sources.json"
_LOCK = threading.Lock()
_known: dict[str, str] | None = None


def _where(obj: Any) -> str | None:
    """The cache key of `obj`'s source, or None when it is not a library's."""
    code = getattr(obj, "__code__", None)
    if code is not None:
        path, line = code.co_filename, code.co_firstlineno
    else:
        module = sys.modules.get(getattr(obj, "__module__", None) or "")
        path, line = getattr(module, "__file__", None), 0
    library = sysconfig.get_paths()["purelib"]
    if not path or not os.path.abspath(path).startswith(library + os.sep):
        return None
    try:
        found = os.stat(path)
    except OSError:
        return None
    return f"{path}:{found.st_mtime_ns}:{found.st_size}:{obj.__qualname__}:{line}"


def _read() -> dict[str, str]:
    try:
        known = json.loads(FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def _write(known: dict[str, str]) -> None:
    with contextlib.suppress(BriefingError, OSError):  # not writable: computed each time
        write_atomic(FILE, json.dumps(known, sort_keys=True).encode("utf-8"))


def computed_digest(obj: Any) -> str | None:
    """The sha256 of `obj`'s source, read and computed now (None: no source to read)."""
    try:
        return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()
    except (OSError, TypeError):
        return None


def source_digest(obj: Any) -> str | None:
    """The sha256 of `obj`'s source (None: no source to read), from the cache when the file
    it is in has not changed."""
    global _known
    key = _where(obj)
    if key is None:
        return computed_digest(obj)
    with _LOCK:
        if _known is None:
            _known = _read()
        if key in _known:
            return _known[key]
    digest = computed_digest(obj)
    if digest is not None:
        with _LOCK:
            assert _known is not None
            _known = {**_read(), **_known, key: digest}
            _write(_known)
    return digest
