"""Warm rebuilds: the seed built again in the same process (`reuse=True`, as the preview
does), after a one-word edit and with nothing changed. CPU time of the rebuild, median of N
(default 7).

    .venv/bin/python bench/bench_warm.py [RUNS]
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import REPO


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    sys.path.insert(0, str(REPO))
    import briefing

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        shutil.copytree(REPO / "content", project / "content")
        seed = project / "content" / "cambodia-faq.yaml"
        original = seed.read_text(encoding="utf-8")
        first = time.process_time()
        assert briefing.build([seed], project=project, reuse=True).ok
        cold = time.process_time() - first
        edited: list[float] = []
        unchanged: list[float] = []
        for run in range(runs):
            # one word of the first answer, new in every run (no earlier layout to reuse)
            seed.write_text(original.replace(" research ", f" research{run} ", 1),
                            encoding="utf-8")
            started = time.process_time()
            assert briefing.build([seed], project=project, reuse=True).ok
            edited.append(time.process_time() - started)
            started = time.process_time()
            assert briefing.build([seed], project=project, reuse=True).ok
            unchanged.append(time.process_time() - started)
    print(f"first build in the process, CPU:              {cold:6.3f} s")
    print(f"rebuild after a one-word edit (target 0.20):  {statistics.median(edited):6.3f} s")
    print(f"rebuild, nothing changed (target 0.03):       {statistics.median(unchanged):6.3f} s")


if __name__ == "__main__":
    main()
