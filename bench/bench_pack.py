"""The demo pack with 200 recipients: reuse against rendering each copy from scratch, and
-j 1 against -j 2.

"From scratch" is estimated from a sample: a one-recipient pack is built as its own project
(everything rendered for that one copy), timed, and multiplied by 200.

    .venv/bin/python bench/bench_pack.py [RECIPIENTS]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from common import BIN, REPO, measure


def make_project(root: Path, recipients: int) -> Path:
    shutil.copytree(REPO / "content", root / "content")
    rows = ["name,organisation,email"] + [
        f"Recipient {i:03d},Organisation {i:03d},r{i:03d}@example.org"
        for i in range(1, recipients + 1)]
    (root / "content" / "packs" / "recipients.csv").write_text("\n".join(rows) + "\n",
                                                                encoding="utf-8")
    return root


def build(project: Path, jobs: int) -> tuple[float, float]:
    return measure([str(BIN / "briefing"), "build", "content/packs/partner-briefing.yaml",
                    "-j", str(jobs)], project)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        one, _ = build(make_project(base / "one", 1), 1)
        j1, peak1 = build(make_project(base / "j1", count), 1)
        j2, peak2 = build(make_project(base / "j2", count), 2)
        same = all(
            (base / "j1" / "out" / "packs" / "partner-briefing" / p.name).read_bytes()
            == p.read_bytes()
            for p in (base / "j2" / "out" / "packs" / "partner-briefing").glob("*.pdf"))
    scratch = one * count
    print(f"one copy, everything rendered (one process):   {one:7.1f} s")
    print(f"{count} copies from scratch (estimate, x{count}):    {scratch:7.1f} s")
    print(f"{count} copies with reuse, -j 1:                 {j1:7.1f} s   peak {peak1:5.0f} MB")
    print(f"{count} copies with reuse, -j 2:                 {j2:7.1f} s   peak {peak2:5.0f} MB")
    print(f"reuse speed-up over from scratch:             x{scratch / j1:6.1f}")
    print(f"-j 2 speed-up over -j 1:                      x{j1 / j2:6.2f}")
    print(f"-j 1 and -j 2 outputs byte-identical:         {same}")


if __name__ == "__main__":
    main()
