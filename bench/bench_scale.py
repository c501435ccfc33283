"""Generated FAQ documents of 50, 500 and 5,000 questions: time and peak memory, and growth.

Each size is built in its own process (`briefing build -j 1`), so peak memory is per build.

    .venv/bin/python bench/bench_scale.py            # 50 500 5000
    .venv/bin/python bench/bench_scale.py 50 500     # a quicker run
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import BIN, measure

PARAGRAPH = ("The research shows a 2.2% prevalence rate of minors among all sex workers in "
             "three major cities, and the public justice system is now equipped to respond. ")


def document(questions: int) -> str:
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


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [50, 500, 5000]
    previous: tuple[int, float] | None = None
    print(f"{'questions':>9}  {'pages':>6}  {'time':>8}  {'peak MB':>8}  growth")
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp)
            (project / "content").mkdir()
            (project / "content" / "generated.yaml").write_text(document(size), encoding="utf-8")
            seconds, peak = measure([str(BIN / "briefing"), "build", "-j", "1"], project)
            from pypdf import PdfReader

            pages = len(PdfReader(project / "out" / "generated.pdf").pages)
        growth = ""
        if previous:
            growth = (f"x{seconds / previous[1]:.1f} time for x{size / previous[0]:.0f} "
                      "questions")
        print(f"{size:>9}  {pages:>6}  {seconds:>7.1f}s  {peak:>8.0f}  {growth}", flush=True)
        previous = (size, seconds)


if __name__ == "__main__":
    main()
