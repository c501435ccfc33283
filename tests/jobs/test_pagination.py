"""Print layout over many pages: a question heading never sits alone at the foot of a page."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

import briefing

from conftest import pdftotext, write_project

SENTENCE = "Partners asked how the programme measures progress across the provinces. "


def long_document() -> str:
    lines = ["title: Pagination test", "sections:", "  - title: Many questions",
             "    questions:"]
    for n in range(1, 61):
        # answers of varied length, so headings fall at every height of the page
        lines += [f"      - question: Heading number {n} of the pagination test?",
                  f"        answer: {SENTENCE * (1 + (n * 5) % 13)}"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    project = write_project(tmp_path_factory.mktemp("pagination"),
                            {"content/long.yaml": long_document()})
    result = briefing.build(project=project)
    assert result.ok, result.failures
    pdf = result.outputs[0].pdf
    count = len(PdfReader(pdf).pages)
    return [pdftotext(pdf, "-f", str(i), "-l", str(i)) for i in range(1, count + 1)]


def body_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()
            if line.strip() and not re.fullmatch(r"Page \d+ of \d+", line.strip())
            and line.strip() != "Pagination test"]


def test_spans_several_pages(pages: list[str]) -> None:
    assert len(pages) >= 6


def test_no_heading_alone_at_the_foot_of_a_page(pages: list[str]) -> None:
    for number, text in enumerate(pages[2:-1], start=3):  # body pages after the contents
        lines = body_lines(text)
        assert lines, f"page {number} is empty"
        assert not re.match(r"Heading number \d+", lines[-1]), (
            f"page {number} ends with a heading: {lines[-1]!r}")


def test_every_heading_is_followed_by_its_answer_on_the_same_page(pages: list[str]) -> None:
    for text in pages[1:]:
        lines = body_lines(text)
        for index, line in enumerate(lines):
            if re.fullmatch(r"Heading number \d+ of the pagination test\?", line):
                assert index + 1 < len(lines) and lines[index + 1].startswith("Partners")
