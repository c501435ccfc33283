"""A pack with thousands of recipients: when the first copy appears, how long the build takes,
and whether memory stays flat as the copies are written.

One build of the demo pack with N generated recipients (default 10,000) at `-j 2`. Every
half second the script reads the resident size of the CLI and every process below it
(/proc, so the workers count) and the number of finished copies. It prints the time to the
first copy, the total wall and CPU time (wait4, workers included), the peak resident size of
the whole process tree, and the tree's resident size at 25 %, 50 % and 90 % of the copies:
the ratio of the 90 % figure to the 25 % one is the growth a leak would show (1.0 is flat).

    .venv/bin/python bench/bench_many_recipients.py                  # 10,000 at -j 2 (~6 min)
    .venv/bin/python bench/bench_many_recipients.py --recipients 2000 -j 1
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench_pack import FOLDER, PACK, make_project
from common import BIN

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def tree_rss_mb(root: int) -> float:
    """Resident MB of `root` and all its descendants, from /proc (a process that ends while
    it is read is skipped)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            statm = Path(f"/proc/{entry}/statm").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(statm.split()[1]) * PAGE_KB
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss.get(pid, 0) for pid in tree) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("-j", "--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp) / "many", args.recipients)
        folder = project / FOLDER
        started = time.perf_counter()
        child = subprocess.Popen([str(BIN / "briefing"), "build", PACK, "-j", str(args.jobs)],
                                 cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples: list[tuple[float, int, float]] = []  # (seconds, copies written, tree MB)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                copies = len(list(folder.glob("*.pdf"))) if folder.is_dir() else 0
                samples.append((time.perf_counter() - started, copies, tree_rss_mb(child.pid)))
                done.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        errors = child.stderr.read().decode() if child.stderr else ""
        written = len(list(folder.glob("*.pdf")))
        shutil.rmtree(project / "out", ignore_errors=True)
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"build failed ({code}): {errors[-2000:]}")
    first = next((s for s, copies, _ in samples if copies), wall)

    def at(share: float) -> float:
        goal = share * args.recipients
        return next((mb for _, copies, mb in samples if copies >= goal), samples[-1][2])

    print(f"{args.recipients} recipients at -j {args.jobs}: {written} copies written")
    print(f"first copy after      {first:7.1f} s")
    print(f"whole build           {wall:7.1f} s wall, {usage.ru_utime + usage.ru_stime:7.1f} s CPU "
          f"(wait4, workers included)")
    print(f"peak, process tree    {max(mb for *_, mb in samples):7.0f} MB (sampled every 0.5 s)")
    print(f"tree at 25/50/90 %    {at(0.25):7.0f} / {at(0.5):.0f} / {at(0.9):.0f} MB")
    print(f"growth 90 % / 25 %    x{at(0.9) / at(0.25):6.2f}  (1.00 is flat)")


if __name__ == "__main__":
    main()
