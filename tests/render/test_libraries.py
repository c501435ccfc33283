"""render/libraries.py: WeasyPrint imported with its libraries opened by soname, no search.

Each case runs in a fresh interpreter: this one imported WeasyPrint long ago."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

#: the native libraries a process has mapped, and the processes it started while importing
PROBE = """
import json, subprocess, sys
started = []
real_popen_init = subprocess.Popen.__init__
def spy(self, args, *rest, **kwargs):
    started.append(str(args))
    real_popen_init(self, args, *rest, **kwargs)
subprocess.Popen.__init__ = spy
import ctypes.util
searching = ctypes.util.find_library
{setup}
{load}
import weasyprint
weasyprint.HTML(string="<p>Page</p>").write_pdf()
mapped = sorted({{line.split()[-1] for line in open("/proc/self/maps")
                  if ".so" in line and any(lib in line for lib in
                  ("gobject", "pango", "harfbuzz", "fontconfig"))}})
print(json.dumps({{"started": started, "mapped": mapped,
                   "restored": ctypes.util.find_library is searching}}))
"""


def probe(load: str, setup: str = "") -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(load=load, setup=textwrap.dedent(setup))],
        capture_output=True, text=True, check=True, timeout=120)
    *printed, last = done.stdout.strip().splitlines()
    assert not printed, printed  # nothing else on stdout: no installation advice
    found: dict[str, object] = json.loads(last)
    return found


def test_the_same_libraries_without_a_single_search() -> None:
    own = probe("import weasyprint")
    quick = probe("from briefing.render.libraries import load_weasyprint; load_weasyprint()")
    assert own["started"], "WeasyPrint's own search starts ldconfig and gcc: the probe sees it"
    assert quick["started"] == []
    assert quick["mapped"] == own["mapped"]
    assert len(quick["mapped"]) >= 5  # type: ignore[arg-type]
    assert quick["restored"] is True


def test_other_sonames_fall_back_to_weasyprints_search() -> None:
    # a system where no library opens by the sonames WeasyPrint lists: only names that
    # find_library returned open, as if the files were called something else
    setup = """
    import _cffi_backend
    answered = set()
    def remembering(name):
        found = searching(name)
        if found:
            answered.add(found)
        return found
    ctypes.util.find_library = remembering
    real_load = _cffi_backend.load_library
    def load_library(name, flags=0):
        if isinstance(name, str) and name not in answered:
            raise OSError("no such file: " + name)
        return real_load(name, flags)
    _cffi_backend.load_library = load_library
    """
    found = probe("from briefing.render.libraries import load_weasyprint; load_weasyprint()",
                  setup)
    assert found["started"], "the fallback is WeasyPrint's own search"
    assert len(found["mapped"]) >= 5  # type: ignore[arg-type]
