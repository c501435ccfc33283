"""Deterministic, valid output: the same input gives the same bytes (whenever and wherever it
is built), dates come from SOURCE_DATE_EPOCH or the content, never the clock, and every file
passes qpdf, embeds its fonts and extracts to the text that was written."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from briefing import api
from briefing.jobs.pipeline import build_document
from tests.conftest import pdftotext, write_project
from tests.pdf_samples import qpdf_check

EPOCH = 1_700_000_000  # 2023-11-14 22:13:20 UTC
KHMER = "ខ្មែរ"
HAS_KHMER_FONT = bool(subprocess.run(["fc-list", ":lang=km", "family"], capture_output=True,
                                     text=True).stdout.strip())

DOCUMENT = f"""\
title: Deterministic — “quoted” and it’s fine
subtitle: Same input, same bytes
organisation: Test Org
date: 2024-05-01
sections:
  - title: Typography
    questions:
      - question: Which characters survive?
        answer: |
          An em dash — a right single quote in it’s, “double quotes”, and a Khmer word
          {KHMER} in the middle of a sentence.[^n]
footnotes:
  n: A note — with a dash.
"""

UNDATED = DOCUMENT.replace("date: 2024-05-01\n", "")


def build(project: Path, out: Path) -> api.Output:
    return build_document(project / "content" / "doc.yaml", project=project, out_dir=out)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, api.Output]:
    """Five builds: dated content twice a second apart; twice with SOURCE_DATE_EPOCH, in two
    project folders at different paths; undated content once."""
    base = tmp_path_factory.mktemp("deterministic")
    here = write_project(base / "project", {"content/doc.yaml": DOCUMENT})
    there = base / "elsewhere" / "another-name"
    shutil.copytree(here, there)
    undated = write_project(base / "undated", {"content/doc.yaml": UNDATED})
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        first = build(here, base / "out-1")
        time.sleep(1.1)
        second = build(here, base / "out-2")
        plain = build(undated, base / "out-undated")
        patch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
        epoch_here = build(here, base / "out-3")
        epoch_there = build(there, there / "out")
    return {"first": first, "second": second, "epoch_here": epoch_here,
            "epoch_there": epoch_there, "undated": plain}


def info(output: api.Output) -> dict[str, str]:
    reader = PdfReader(output.pdf)
    return {str(k): str(v) for k, v in (reader.metadata or {}).items()}


def test_same_input_same_bytes(builds: dict[str, api.Output]) -> None:
    first, second = builds["first"], builds["second"]
    assert first.pdf.read_bytes() == second.pdf.read_bytes()
    assert first.html is not None and second.html is not None
    assert first.html.read_bytes() == second.html.read_bytes()


def test_same_bytes_in_another_folder_with_source_date_epoch(
        builds: dict[str, api.Output]) -> None:
    here, there = builds["epoch_here"], builds["epoch_there"]
    assert here.pdf.read_bytes() == there.pdf.read_bytes()
    assert here.html is not None and there.html is not None
    assert here.html.read_bytes() == there.html.read_bytes()
    assert here.pdf.read_bytes() != builds["first"].pdf.read_bytes()  # the date differs


def test_dates(builds: dict[str, api.Output]) -> None:
    assert info(builds["first"])["/CreationDate"] == "D:20240501000000Z"
    epoch = dt.datetime.fromtimestamp(EPOCH, dt.UTC).strftime("D:%Y%m%d%H%M%SZ")
    assert info(builds["epoch_here"])["/CreationDate"] == epoch
    assert info(builds["epoch_here"])["/ModDate"] == epoch
    undated = info(builds["undated"])
    assert "/CreationDate" not in undated and "/ModDate" not in undated
    # no clock anywhere, not even XMP: every object uncompressed (qpdf's QDF form), without
    # the byte offsets of its cross-reference table, which are not dates but can hold "2026"
    qdf = subprocess.run(["qpdf", "--qdf", "--object-streams=disable",
                          str(builds["undated"].pdf), "-"], check=True, capture_output=True).stdout
    objects = re.sub(rb"\nxref\n.*", b"", qdf, flags=re.DOTALL)
    assert b"/Title" in objects and b"endobj" in objects  # what the search runs on
    assert str(dt.date.today().year).encode() not in objects


def test_identifier_derives_from_the_content(builds: dict[str, api.Output]) -> None:
    ids = {name: PdfReader(o.pdf).trailer["/ID"] for name, o in builds.items()}
    first = bytes(ids["first"][0].original_bytes)
    assert first == bytes(ids["second"][0].original_bytes)
    assert len(first) == 16 and len(set(first)) > 4
    assert bytes(ids["undated"][0].original_bytes) != first  # other content, other identifier


@pytest.mark.parametrize("name", ["first", "epoch_here", "undated"])
def test_qpdf_check(builds: dict[str, api.Output], name: str) -> None:
    qpdf_check(builds[name].pdf)


def test_all_fonts_embedded(builds: dict[str, api.Output]) -> None:
    listing = subprocess.run(["pdffonts", str(builds["first"].pdf)], check=True,
                             capture_output=True, text=True).stdout.splitlines()
    rows = listing[2:]  # after the header and its underline
    assert rows, listing
    for row in rows:
        # name, type (one or two words), encoding, then emb sub uni as yes/no, then object id
        flags = row.split()[-5:-2]
        assert flags[0] == "yes", row


def expected_phrases() -> list[str]:
    phrases = ["Deterministic — “quoted” and it’s fine", "An em dash — a right single quote",
               "it’s, “double quotes”", "A note — with a dash."]
    if HAS_KHMER_FONT:
        phrases.append(f"Khmer word {KHMER} in the middle")
    return phrases


def _flat(text: str) -> str:
    """Spaces normalised; U+200C dropped: a glyph that adds nothing to its cluster's text maps
    to that invisible character (PDF/UA wants a value for every glyph; render/tounicode.py)."""
    return " ".join(text.replace("\u200c", "").split())


def test_text_extracts_with_poppler(builds: dict[str, api.Output]) -> None:
    text = _flat(pdftotext(builds["first"].pdf))
    for phrase in expected_phrases():
        assert phrase in text, phrase


def test_text_extracts_with_pypdf(builds: dict[str, api.Output]) -> None:
    reader = PdfReader(builds["first"].pdf)
    text = _flat(" ".join(page.extract_text() for page in reader.pages))
    for phrase in expected_phrases():
        assert phrase in text, phrase
