"""The seed document: the whole CLI process against the bare cost of WeasyPrint.

Prints: the CLI's wall time and peak memory for `briefing build content/cambodia-faq.yaml -j 1`,
the time of `import weasyprint` plus rendering the same body HTML once, and their ratio.

    .venv/bin/python bench/bench_seed.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import BIN, REPO, best_of

BARE = """
import sys, time
started = time.perf_counter()
import weasyprint
html = open(sys.argv[1], encoding="utf-8").read()
weasyprint.HTML(string=html).write_pdf()
print(time.perf_counter() - started)
"""


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        cli, cli_peak = best_of(runs, [str(BIN / "briefing"), "build",
                                       "content/cambodia-faq.yaml", "-j", "1", "--out",
                                       str(out)], REPO)
        html = out / "cambodia-faq.html"
        script = out / "bare.py"
        script.write_text(BARE, encoding="utf-8")
        bare, bare_peak = best_of(runs, [sys.executable, str(script), str(html)], REPO)
    print(f"seed, whole CLI process (-j 1):        {cli:6.2f} s   peak {cli_peak:6.0f} MB")
    print(f"import weasyprint + render same HTML:  {bare:6.2f} s   peak {bare_peak:6.0f} MB")
    print(f"ratio CLI / bare WeasyPrint:           {cli / bare:6.2f}")


if __name__ == "__main__":
    main()
