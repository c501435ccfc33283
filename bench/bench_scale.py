"""Generated FAQ documents at scale: growth of CPU time with the number of questions, and
peak memory, measured in one interleaved run.

Each size is its own project, built in its own process (`briefing build -j 1`); the sizes
take turns (500, 2,000, 500, 2,000 ...). Printed: median CPU time (from wait4), wall time,
peak resident memory (wait4's ru_maxrss) and pages per size, then each size's CPU time as a
ratio to the first size's (target for 2,000 / 500: <= 4.2, linear is 4.0). `--peak` adds
one build of a size for its peak memory (target for 5,000 questions: < 1.5 GB).

    .venv/bin/python bench/bench_scale.py                       # 500 2000, one round
    .venv/bin/python bench/bench_scale.py --rounds 3 --peak 5000
    .venv/bin/python bench/bench_scale.py --sizes 50 200        # a quick look
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from common import BIN, Command, alternate, run_once

PARAGRAPH = ("The research shows a 2.2% prevalence rate of minors among all sex workers in "
             "three major cities, and the public justice system is now equipped to respond. ")


def document(questions: int) -> str:
    """Sections of 25 questions, each answer three paragraphs with a note; 40 notes, so the
    larger the document the more calls each note links back to."""
    lines = ["title: Generated briefing", "subtitle: For the benchmark", "sections:"]
    per_section = 25
    for s in range(0, questions, per_section):
        lines += [f"  - title: Section {s // per_section + 1}", "    questions:"]
        for q in range(s, min(s + per_section, questions)):
            lines += [f"      - question: Question number {q + 1} about the programme?",
                      "        answer: |",
                      f"          {PARAGRAPH * 3}[^n{q % 40}]",
                      "",
                      f"          {PARAGRAPH * 2}"]
    lines.append("footnotes:")
    lines += [f"  n{i}: Note {i}, citing a study." for i in range(min(40, questions))]
    return "\n".join(lines) + "\n"


def project(root: Path, questions: int) -> Path:
    (root / "content").mkdir(parents=True)
    (root / "content" / "generated.yaml").write_text(document(questions), encoding="utf-8")
    return root


def build(name: str, root: Path) -> Command:
    def clean() -> None:
        shutil.rmtree(root / "out", ignore_errors=True)

    return Command(name, [str(BIN / "briefing"), "build", "-j", "1"], root, before=clean)


def pages(root: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(root / "out" / "generated.pdf").pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--rounds", type=int, default=1,
                        help="interleaved rounds (default 1: a 2,000-question build takes "
                             "minutes on the shared machine)")
    parser.add_argument("--peak", type=int, metavar="QUESTIONS",
                        help="also build this many questions once, for its peak memory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        roots = {size: project(base / str(size), size) for size in args.sizes}
        runs = alternate([build(str(size), root) for size, root in roots.items()], args.rounds)
        counts = {size: pages(root) for size, root in roots.items()}
        print(f"medians of {args.rounds} interleaved round(s); CPU from wait4")
        print(f"{'questions':>9}  {'pages':>6}  {'CPU':>8}  {'wall':>8}  {'peak MB':>8}  "
              f"CPU / {args.sizes[0]} questions")
        first = runs[str(args.sizes[0])].cpu
        for size in args.sizes:
            found = runs[str(size)]
            print(f"{size:>9}  {counts[size]:>6}  {found.cpu:>7.1f}s  {found.wall:>7.1f}s  "
                  f"{found.peak:>8.0f}  x{found.cpu / first:.2f} for x{size / args.sizes[0]:g}",
                  flush=True)
        if args.peak:
            root = project(base / f"peak-{args.peak}", args.peak)
            cpu, wall, peak = run_once([str(BIN / "briefing"), "build", "-j", "1"], root)
            print(f"{args.peak:>9}  {pages(root):>6}  {cpu:>7.1f}s  {wall:>7.1f}s  "
                  f"{peak:>8.0f}  (one build, for its peak memory)")


if __name__ == "__main__":
    main()
