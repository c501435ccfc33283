"""Per-recipient copies of the demo pack: N copies in one build against N single-copy builds,
and the memory of N copies against 10, measured in one interleaved run.

The yardstick is what N copies cost built one at a time: a one-recipient pack built as its
own project (everything rendered for that one copy), its median CPU time × N. The commands
take turns (one copy, N at -j 2, N at -j 1, 10 at -j 2; then again ...), so a load that comes
and goes on the shared machine falls on all of them alike. CPU time is user + system from
wait4 (worker processes included), medians over the rounds; peak is the largest resident
size of any one process (wait4's ru_maxrss).

    .venv/bin/python bench/bench_pack.py                       # 200 copies, 2 rounds
    .venv/bin/python bench/bench_pack.py --rounds 6 --recipients 500
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from common import BIN, REPO, Command, alternate

PACK = "content/packs/partner-briefing.yaml"
FOLDER = Path("out") / "packs" / "partner-briefing"


def make_project(root: Path, recipients: int) -> Path:
    shutil.copytree(REPO / "content", root / "content")
    rows = ["name,organisation,email"] + [
        f"Recipient {i:03d},Organisation {i:03d},r{i:03d}@example.org"
        for i in range(1, recipients + 1)]
    (root / "content" / "packs" / "recipients.csv").write_text("\n".join(rows) + "\n",
                                                                encoding="utf-8")
    return root


def build(name: str, project: Path, jobs: int) -> Command:
    def clean() -> None:
        shutil.rmtree(project / "out", ignore_errors=True)

    return Command(name, [str(BIN / "briefing"), "build", PACK, "-j", str(jobs)], project,
                   before=clean)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2,
                        help="interleaved rounds, each builds every command once (default 2: "
                             "the machine is shared; use more for steadier medians)")
    args = parser.parse_args()
    count = args.recipients
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        runs = alternate([
            build("one", make_project(base / "one", 1), 1),
            build("j2", make_project(base / "j2", count), 2),
            build("j1", make_project(base / "j1", count), 1),
            build("ten", make_project(base / "ten", 10), 2),
        ], args.rounds)
        copies = sorted((base / "j2" / FOLDER).glob("*.pdf"))
        same = len(copies) == count and all(
            (base / "j1" / FOLDER / p.name).read_bytes() == p.read_bytes() for p in copies)
    one, j2, j1, ten = runs["one"], runs["j2"], runs["j1"], runs["ten"]
    yardstick = one.cpu * count
    print(f"medians of {args.rounds} interleaved rounds; CPU from wait4, workers included")
    rows = [("one copy as its own build", one), (f"{count} copies in one build, -j 2", j2),
            (f"{count} copies in one build, -j 1", j1), ("10 copies in one build, -j 2", ten)]
    for label, found in rows:
        print(f"{label:<34} CPU {found.cpu:7.2f} s  wall {found.wall:6.2f} s  "
              f"peak {found.peak:5.0f} MB")
    print(f"{'yardstick: ' + str(count) + ' single-copy builds':<34} CPU {yardstick:7.1f} s  "
          f"(one copy's CPU x {count})")
    print(f"speed-up over the yardstick, -j 2 (target >= 40):  x{yardstick / j2.cpu:5.1f}")
    print(f"speed-up over the yardstick, -j 1:                 x{yardstick / j1.cpu:5.1f}")
    print(f"peak {count} copies / 10 copies, -j 2 (target <= 1.2): x{j2.peak / ten.peak:5.2f}")
    print(f"-j 1 and -j 2 copies byte-identical:               {same}")


if __name__ == "__main__":
    main()
