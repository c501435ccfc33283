"""The notes follow the body in its layout (jobs/document.py, jobs/pack.py): they share its
last page when there is room, and a note called on several pages links back to each call with
the page number a reader sees there ("↩ p. 1, p. 2, p. 3"), from that same layout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

import briefing

from conftest import pdftotext, write_project

FILLER = "Words that fill the page so that the next call lands on a later one. " * 45


def _document(lang: str = "en") -> str:
    questions = "".join(
        f"      - question: Question {marker}?\n"
        f"        answer: {FILLER}{marker} is where the shared note is called.[^shared] "
        f"{FILLER}\n"
        for marker in ("ALPHA", "BETA", "GAMMA"))
    return (f"title: Shared calls\nlang: {lang}\nsections:\n  - title: All\n"
            f"    questions:\n{questions}"
            "footnotes:\n  shared: SHAREDNOTE, called three times.\n")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    project = write_project(tmp_path_factory.mktemp("follow"), {
        "content/calls.yaml": _document(),
        "content/calls-km.yaml": _document("km"),
    })
    result = briefing.build(project=project)
    assert result.ok, result.failures
    return {o.pdf.stem: o.pdf for o in result.outputs}


def _page_texts(pdf: Path) -> list[str]:
    count = len(PdfReader(pdf).pages)
    return [pdftotext(pdf, "-f", str(n), "-l", str(n)) for n in range(1, count + 1)]


def test_each_back_link_prints_the_page_of_its_call(built: dict[str, Path]) -> None:
    pdf = built["calls"]
    labels = PdfReader(pdf).page_labels
    texts = _page_texts(pdf)
    called = [labels[next(n for n, t in enumerate(texts) if f"{m} is where" in t)]
              for m in ("ALPHA", "BETA", "GAMMA")]
    assert len(set(called)) == 3, called  # three calls on three pages
    notes = texts[-1]
    assert "SHAREDNOTE" in notes
    assert re.search(r"↩\s*" + r",\s*".join(f"p\\. {label}" for label in called), notes), notes


def test_back_links_land_on_their_calls(built: dict[str, Path]) -> None:
    reader = PdfReader(built["calls"])
    last = reader.pages[-1]
    texts = _page_texts(built["calls"])
    targets = []
    for annot in last.get("/Annots", []):
        dest = annot.get_object().get("/Dest")
        if dest is not None:
            targets.append(next(n for n, p in enumerate(reader.pages)
                                if p.indirect_reference == dest[0]))
    for marker in ("ALPHA", "BETA", "GAMMA"):
        assert next(n for n, t in enumerate(texts) if f"{marker} is where" in t) in targets


def test_the_notes_start_on_the_last_answers_page(built: dict[str, Path]) -> None:
    xml = subprocess.run(["pdftotext", "-bbox", str(built["calls"]), "-"],
                         check=True, capture_output=True, text=True).stdout
    pages = xml.split("<page ")[1:]
    assert [n for n, page in enumerate(pages) if ">SHAREDNOTE," in page] == [len(pages) - 1]
    words = [(w, float(y)) for y, w in re.findall(r'yMin="([\d.]+)"[^>]*>([^<]*)<', pages[-1])]
    heading = [y for w, y in words if w == "Notes"]
    assert len(heading) == 1, words
    body = [y for w, y in words if w == "fill"]  # the last answer's words
    assert body and max(body) < heading[0] < next(y for w, y in words if w == "SHAREDNOTE,")


def test_khmer_back_links_print_khmer_page_numbers(built: dict[str, Path]) -> None:
    pdf = built["calls-km"]
    labels = PdfReader(pdf).page_labels
    texts = _page_texts(pdf)
    khmer = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")
    called = [labels[next(n for n, t in enumerate(texts) if f"{m} is where" in t)]
              for m in ("ALPHA", "BETA", "GAMMA")]
    notes = " ".join(texts[-1].split())
    for label in called:
        assert f"ទំ. {label.translate(khmer)}" in notes, notes
