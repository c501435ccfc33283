"""`briefing preview`: from saving a one-word change to the reloaded page, and to the new PDF.

For the seed document and for a generated 50-question document, the preview server runs in
this process on a free port; each round changes one word of one answer, saves, and does what
the page's script does: long-polls `/_preview/state` until the version changes, then fetches
the page (the reload) and checks the new word is in it. The PDF time is until the state's
`pdf_version` changes. Targets (issue 11): page ≤ 0.5 s for the seed, ≤ 1.5 s for 50 questions.

    .venv/bin/python bench/bench_preview.py [ROUNDS]
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import REPO

from briefing.preview import preview_server

ANSWER = ("The programme answers requests faster than before, and each result is published "
          "with its method so that partners can check it.[^n{i}]\n")


def fifty_questions() -> str:
    lines = ["title: Fifty questions", "subtitle: A long document for the preview bench",
             "sections:"]
    for s in range(5):
        lines += [f"  - title: Section {s + 1}", "    questions:"]
        for q in range(10):
            i = s * 10 + q
            lines += [f"      - question: Question number {i + 1}?", "        answer: |"]
            lines += ["          " + ANSWER.format(i=i).rstrip("\n")] * 1
            lines += ["", "          " + ("More words in a second paragraph. " * 8).strip()]
    lines += ["footnotes:"] + [f"  n{i}: Source {i + 1}." for i in range(50)]
    return "\n".join(lines) + "\n"


def state(url: str, name: str, version: int = -1, pdf: int = -1) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}_preview/state?name={name}&version={version}"
                                f"&pdf_version={pdf}", timeout=60) as response:
        found: dict[str, int] = json.load(response)
    return found


def rounds(project: Path, name: str, source: Path, word: str, count: int
           ) -> tuple[list[float], list[float]]:
    server = preview_server(project, port=0, out_dir=project / ".bench-out")
    server.start()
    time.sleep(1)
    pages, pdfs = [], []
    try:
        text = source.read_text(encoding="utf-8")
        for i in range(count):
            before = state(server.url, name)
            new = f"{word}{i}"
            source.write_text(text.replace(word, new, 1), encoding="utf-8")
            saved = time.perf_counter()
            now = before
            deadline = saved + 60
            while now["version"] == before["version"]:
                if time.perf_counter() > deadline:
                    raise SystemExit(f"{name}: no rebuild 60 s after a save")
                now = state(server.url, name, now["version"], now["pdf_version"])
            with urllib.request.urlopen(f"{server.url}{name}.html", timeout=60) as response:
                page = response.read().decode("utf-8")
            pages.append(time.perf_counter() - saved)
            assert new in page, "the reloaded page lacks the change"
            while now["pdf_version"] == before["pdf_version"]:
                now = state(server.url, name, now["version"], now["pdf_version"])
            pdfs.append(time.perf_counter() - saved)
            time.sleep(0.3)
    finally:
        server.stop()
    return pages, pdfs


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    with tempfile.TemporaryDirectory() as tmp:
        seed = Path(tmp) / "seed"
        shutil.copytree(REPO / "content", seed / "content")
        long = Path(tmp) / "long"
        (long / "content").mkdir(parents=True)
        (long / "content" / "fifty.yaml").write_text(fifty_questions(), encoding="utf-8")
        cases = [
            ("seed (cambodia-faq)", seed, "cambodia-faq",
             seed / "content" / "cambodia-faq.yaml", "aggressive"),
            ("50 questions", long, "fifty", long / "content" / "fifty.yaml", "faster"),
        ]
        print(f"{'document':<22} {'page median':>12} {'page max':>9} {'PDF median':>11} "
              f"{'PDF max':>8}   ({count} saves each)")
        for label, project, name, source, word in cases:
            pages, pdfs = rounds(project, name, source, word, count)
            print(f"{label:<22} {statistics.median(pages):>10.3f} s {max(pages):>7.3f} s "
                  f"{statistics.median(pdfs):>9.3f} s {max(pdfs):>6.3f} s")


if __name__ == "__main__":
    main()
