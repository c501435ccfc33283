"""Question ids: any id a URL fragment carries unescaped and a file name can hold is fine.

A public statistics FAQ uses ids such as `effectsize_faq_controversial`; it must build, and its
anchors must work in the PDF (named destinations, the contents' links) and the web page.
Refused ids (and the character named) are cases in fixtures/content/ids-refused.yaml.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from badinput import cli_run
from pypdf import PdfReader

from conftest import write_project

IDS = ["effectsize_faq_controversial", "effectsize_faq_small", "power_analysis_faq",
       "p_values", "Bayes_factors", "ci_v1.2", "odd~id!$&'()+,;=@x"]


def _document() -> str:
    questions = "".join(
        f"      - question: Question {n}?\n        id: \"{qid}\"\n"
        f"        answer: Answer {n}, see [the last](#q-{IDS[-1]}).\n"
        for n, qid in enumerate(IDS, start=1)
    )
    return f"title: Statistics FAQ\nsections:\n  - title: Questions\n    questions:\n{questions}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    project = write_project(tmp_path_factory.mktemp("ids"), {"content/stats.yaml": _document()})
    result = cli_run(project, "build", "content/stats.yaml")
    assert result.exit_code == 0, result.output
    return project, result.stderr


def test_underscore_ids_build_without_a_message(built: tuple[Path, str]) -> None:
    _, stderr = built
    assert not [line for line in stderr.splitlines() if line.startswith("content/")], stderr


def test_every_id_is_an_anchor_of_the_pdf(built: tuple[Path, str]) -> None:
    project, _ = built
    pdf = project / "out" / "stats.pdf"
    reader = PdfReader(pdf)
    assert {f"q-{qid}" for qid in IDS} <= set(reader.named_destinations)
    # (written by the merge in one sorted name tree: each on its question's page, the body's)
    named = reader.named_destinations
    assert list(named) == sorted(named)
    assert {reader.get_destination_page_number(named[f"q-{qid}"]) for qid in IDS} == {1}
    body = reader.pages[1]
    links = [annot.get_object() for annot in body.get("/Annots") or []]
    landed = list(dict.fromkeys(float(link["/Dest"][3]) for link in links if "/Dest" in link))
    assert len(landed) == len(IDS)  # one destination per question, the contents in order
    # each destination is at the top of its question's heading, `Question N?`
    height = float(body.mediabox.height)
    xml = subprocess.run(["pdftotext", "-bbox", "-f", "2", "-l", "2", str(pdf), "-"],
                         check=True, capture_output=True, text=True).stdout
    # the contents come first, so the last `Question N?` of a number is its heading
    headings = {int(n): float(top) for top, n in re.findall(
        r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">Question</word>\s*'
        r'<word[^>]*>(\d+)\?</word>', xml)}
    for number, dest_y in enumerate(landed, start=1):
        assert abs(headings[number] - (height - dest_y)) < 3, (number, dest_y, headings)
    # every answer's link goes to the last question, whose id has the most unusual characters
    assert [float(link["/Dest"][3]) for link in links[-len(IDS):]] == [landed[-1]] * len(IDS)


def test_the_web_page_keeps_the_ids(built: tuple[Path, str]) -> None:
    project, _ = built
    html = (project / "out" / "stats.html").read_text(encoding="utf-8")
    assert 'id="q-effectsize_faq_controversial"' in html
    assert 'href="#q-effectsize_faq_controversial"' in html


def test_check_accepts_them_too(built: tuple[Path, str]) -> None:
    project, _ = built
    result = cli_run(project, "check", "content/stats.yaml")
    assert result.exit_code == 0
    assert result.stderr.strip() == "1 document(s) OK"
