"""WeasyPrint imported without searching for its native libraries by every name it knows.

WeasyPrint opens GObject, Pango, HarfBuzz, Fontconfig and PangoFT2 by trying a list of names
per library, for every platform (`weasyprint/text/ffi.py`): `libpango-1.0-0`, `pango-1.0-0`,
`pango-1.0`, `libpango-1.0.so.0`, ... cffi hands each name that is not a path to
`ctypes.util.find_library`, which on Linux runs `ldconfig -p`, then `gcc` and `ld`, in
subprocesses, for every name that misses: 22 searches and 54 processes, about 0.25 s of CPU
in every process that lays out a document, more than the seed's own layout takes.

`load_weasyprint` imports WeasyPrint with `find_library` answering "not found" at once, so
each library is opened by the first name the dynamic loader knows itself (`libpango-1.0.so.0`
on Linux: the very file the search would have named). Should no name open that way (a system
with other sonames), WeasyPrint is imported again with its own search, as it would have been.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
from typing import Any

_LOCK = threading.Lock()


def load_weasyprint() -> Any:
    """WeasyPrint, imported (once per process) with its libraries opened by soname."""
    found = sys.modules.get("weasyprint")
    if found is not None and hasattr(found, "HTML"):  # imported in full before
        return found
    with _LOCK:
        if "weasyprint.text.ffi" in sys.modules:  # imported meanwhile, or by someone else
            import weasyprint

            return weasyprint
        import ctypes.util  # here: `briefing check` never pays for it

        searching = ctypes.util.find_library
        ctypes.util.find_library = _not_searched
        try:
            # WeasyPrint prints its installation advice before giving up: not yet
            with contextlib.redirect_stdout(io.StringIO()):
                import weasyprint
        except OSError:  # no library opened by soname: WeasyPrint's own search, once more
            for name in [name for name in sys.modules
                         if name == "weasyprint" or name.startswith("weasyprint.")]:
                del sys.modules[name]
            ctypes.util.find_library = searching
            import weasyprint
        finally:
            ctypes.util.find_library = searching
    return weasyprint


def _not_searched(name: str) -> None:
    """`ctypes.util.find_library` while WeasyPrint opens its libraries: nothing searched."""
    return None
