"""The contents on paper: a leader never stands alone on a line, in entries of one to seven
lines at every paper size; and a contents list that runs over a page says so: every page
after its first is headed "In this briefing (continued)" (a pack's: "Contents (continued)"),
up to the page the contents ends on (`id="contents-end"`, render/html.py folio_margins);
the body's pages keep the document's title."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

import briefing

from conftest import pdftotext, write_project


def _document(count: int, lang: str = "en") -> str:
    questions = "".join(f"      - question: Question number {n} about a topic worded at "
                        f"some length, so that it wraps?\n        answer: Answer {n}.\n"
                        for n in range(count))
    return (f"title: Long contents\nlang: {lang}\nsections:\n  - title: All\n"
            f"    questions:\n{questions}")


def _varied(count: int = 30) -> str:
    """Questions of 1 to 60 words, so that entries wrap onto one to seven lines."""
    words = ["trafficking", "children", "Cambodia", "organisation", "partner", "study",
             "evidence", "narrative", "response", "shelter", "exploitation", "community",
             "of", "the"]
    rng = random.Random(3)
    questions = "".join(
        "      - question: " + " ".join(rng.choice(words) for _ in range(rng.randint(1, 60)))
        + f" {n}?\n        answer: A.\n" for n in range(count))
    return f"title: Varied\nsections:\n  - title: All\n    questions:\n{questions}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    project = write_project(tmp_path_factory.mktemp("continued"), {
        "content/long.yaml": _document(45),
        "content/long-km.yaml": _document(45, "km"),
        "content/short.yaml": _document(3),
        "content/varied.yaml": _varied(),
        "content/packs/p.yaml": "title: Pack\nitems:\n  - document: ../long.yaml\n",
    })
    result = briefing.build(project=project)
    assert result.ok, result.failures
    built = {o.pdf.stem: o.pdf for o in result.outputs}
    for paper in ("a5", "letter"):
        varied = project / "content/varied.yaml"
        other = briefing.build([varied], project=project, paper=paper, out_dir=project / paper)
        assert other.ok, other.failures
        built[f"varied-{paper}"] = other.outputs[0].pdf
    built["varied-a4"] = built.pop("varied")
    return built


WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)<')


def _contents_lines(pdf: Path) -> list[list[str]]:
    """The words of the last line of every contents entry: the line that ends in its page
    number (pdftotext -bbox; the footer "Page 1 of 9" left out)."""
    heads = _heads(pdf)
    last = max(i for i, head in enumerate(heads) if "continued" in head or i == 1)
    lines: list[list[str]] = []
    for page in pdftotext(pdf, "-bbox", "-f", "2", "-l", str(last + 1)).split("<page ")[1:]:
        by_y: dict[int, list[tuple[float, str]]] = {}
        for match in WORD.finditer(page):
            by_y.setdefault(round(float(match[2])), []).append((float(match[1]), match[4]))
        lines += [[w for _, w in sorted(ws)] for _, ws in sorted(by_y.items())]
    return [line for line in lines
            if re.fullmatch(r"\d+", line[-1]) and "Page" not in line]


@pytest.mark.parametrize("paper", ["a4", "a5", "letter"])
def test_a_leader_never_stands_alone(built: dict[str, Path], paper: str) -> None:
    lines = _contents_lines(built[f"varied-{paper}"])
    assert len(lines) == 30  # one page number per entry, on the entry's last line
    for line in lines:
        words = [w for w in line if not re.fullmatch(r"[.\d]+", w)]
        assert words, f"a leader alone on its line: {line}"
        # the last word, then a space of its own before the leader's dots
        assert words[-1].endswith("?"), f"the entry's last word runs into its leader: {line}"


def _heads(pdf: Path) -> list[str]:
    """The first line of every page: its running header (the cover has none)."""
    count = len(PdfReader(pdf).pages)
    return [pdftotext(pdf, "-f", str(n), "-l", str(n)).strip().split("\n")[0]
            for n in range(1, count + 1)]


def test_a_long_contents_says_continued_on_every_page_after_its_first(
        built: dict[str, Path]) -> None:
    heads = _heads(built["long"])
    continued = [i for i, head in enumerate(heads) if head == "In this briefing (continued)"]
    assert continued, heads
    # the pages right after the contents' first page, up to the page it ends on
    assert continued == list(range(2, 2 + len(continued))), heads
    assert heads[1] == "Long contents"
    ends_on = continued[-1]
    text = pdftotext(built["long"], "-f", str(ends_on + 1), "-l", str(ends_on + 1))
    assert "Question number 44 about" in text  # the last entry is on the last "continued" page
    assert all(head == "Long contents" for head in heads[ends_on + 1:]), heads


def test_a_contents_on_one_page_does_not(built: dict[str, Path]) -> None:
    assert not any("continued" in head for head in _heads(built["short"]))


def test_khmer_says_it_in_khmer(built: dict[str, Path]) -> None:
    heads = _heads(built["long-km"])
    assert any(head.endswith("(បន្ត)") for head in heads), heads
    assert not any("continued" in head for head in heads)


def test_a_pack_contents_says_continued(built: dict[str, Path]) -> None:
    heads = _heads(built["p"])
    continued = [i for i, head in enumerate(heads) if head == "Contents (continued)"]
    assert continued and continued[0] == 2, heads
    assert heads[1] == "Pack"
