"""Warm rebuilds: the seed built again in the same process (`reuse=True`, as the preview
does), after a one-word edit and with nothing changed. CPU time of the rebuild, median of N
(default 7), with the children it waited for.

    .venv/bin/python bench/bench_warm.py [RUNS]
"""

from __future__ import annotations

import resource
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from common import REPO


def cpu() -> float:
    """CPU seconds of this process and of the children it waited for (WeasyPrint's own
    import, in a process that does not open its libraries by soname, runs ldconfig and gcc)."""
    own, children = (resource.getrusage(who) for who in
                     (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    sys.path.insert(0, str(REPO))
    import briefing

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        shutil.copytree(REPO / "content", project / "content")
        seed = project / "content" / "cambodia-faq.yaml"
        original = seed.read_text(encoding="utf-8")
        first = cpu()
        assert briefing.build([seed], project=project, reuse=True).ok
        cold = cpu() - first
        edited: list[float] = []
        unchanged: list[float] = []
        for run in range(runs):
            # one word of the first answer, new in every run (no earlier layout to reuse)
            seed.write_text(original.replace(" research ", f" research{run} ", 1),
                            encoding="utf-8")
            started = cpu()
            assert briefing.build([seed], project=project, reuse=True).ok
            edited.append(cpu() - started)
            started = cpu()
            assert briefing.build([seed], project=project, reuse=True).ok
            unchanged.append(cpu() - started)
    print(f"first build in the process, CPU:              {cold:6.3f} s")
    print(f"rebuild after a one-word edit (target 0.20):  {statistics.median(edited):6.3f} s")
    print(f"rebuild, nothing changed (target 0.03):       {statistics.median(unchanged):6.3f} s")


if __name__ == "__main__":
    main()
