"""The demo pack with many recipients: copies with reuse against one build per copy, and the
memory of 200 copies against 10.

"One build per copy" is a one-recipient pack built as its own process (median of 3) times the
number of recipients. CPU time from wait4 (workers included), wall time, peak resident size
(the largest single process: with -j 2, a worker or the parent).

    .venv/bin/python bench/bench_pack.py [RECIPIENTS]
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from common import BIN, REPO, run_once


def make_project(root: Path, recipients: int) -> Path:
    shutil.copytree(REPO / "content", root / "content")
    rows = ["name,organisation,email"] + [
        f"Recipient {i:03d},Organisation {i:03d},r{i:03d}@example.org"
        for i in range(1, recipients + 1)]
    (root / "content" / "packs" / "recipients.csv").write_text("\n".join(rows) + "\n",
                                                                encoding="utf-8")
    return root


def build(project: Path, jobs: int) -> tuple[float, float, float]:
    return run_once([str(BIN / "briefing"), "build", "content/packs/partner-briefing.yaml",
                     "-j", str(jobs)], project)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        one_project = make_project(base / "one", 1)
        one = [build(one_project, 1) for _ in range(3)]
        one_cpu = statistics.median(r[0] for r in one)
        one_wall = statistics.median(r[1] for r in one)
        ten = build(make_project(base / "ten", 10), 1)
        j1 = build(make_project(base / "j1", count), 1)
        j2 = build(make_project(base / "j2", count), 2)
        same = all(
            (base / "j1" / "out" / "packs" / "partner-briefing" / p.name).read_bytes()
            == p.read_bytes()
            for p in (base / "j2" / "out" / "packs" / "partner-briefing").glob("*.pdf"))
    print(f"one copy as its own build:       CPU {one_cpu:6.2f} s  wall {one_wall:6.2f} s")
    print(f"10 copies, -j 1:                 CPU {ten[0]:6.2f} s  wall {ten[1]:6.2f} s"
          f"  peak {ten[2]:5.0f} MB")
    print(f"{count} copies, -j 1:                CPU {j1[0]:6.2f} s  wall {j1[1]:6.2f} s"
          f"  peak {j1[2]:5.0f} MB")
    print(f"{count} copies, -j 2:                CPU {j2[0]:6.2f} s  wall {j2[1]:6.2f} s"
          f"  peak {j2[2]:5.0f} MB")
    wall_ratio, cpu_ratio = one_wall * count / j2[1], one_cpu * count / j2[0]
    print(f"{count} builds / {count} copies -j 2 (target >= 40): wall x{wall_ratio:5.1f}"
          f"  CPU x{cpu_ratio:5.1f}")
    print(f"peak {count} copies / 10 copies, -j 1 (target <= 1.2): {j1[2] / ten[2]:5.2f}")
    print(f"-j 1 and -j 2 outputs byte-identical: {same}")


if __name__ == "__main__":
    main()
