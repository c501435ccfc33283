"""Answer-local footnotes: a `[^1]: ...` written inside an answer belongs to that answer.

Authors converting a document question by question write `[^1]` in each answer with its own
definition under it. Built through the CLI and read back from the PDF: every definition is its
own note with its own number (order of first call across the document), and each call's link
lands on its own note, not on another answer's `[^1]`.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from badinput import cli_run
from pypdf import PdfReader

from conftest import write_project

TWO_ANSWERS = """\
title: Two answers
sections:
  - title: Questions
    questions:
      - question: First?
        answer: |
          First answer.[^1] Again.[^1]

          [^1]: FIRSTNOTE text.
      - question: Second?
        answer: |
          Second answer.[^1] Shared.[^top]

          [^1]: SECONDNOTE text.
      - question: Third?
        answer: |
          Third answer.[^top]

          [^top]: SHADOWNOTE text.
footnotes:
  top: TOPNOTE text.
"""
#: the note each call (in reading order) must land on, and the number it shows
CALLS = [("FIRSTNOTE", 1), ("FIRSTNOTE", 1), ("SECONDNOTE", 2), ("TOPNOTE", 3), ("SHADOWNOTE", 4)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    project = write_project(tmp_path_factory.mktemp("notes"), {"content/two.yaml": TWO_ANSWERS})
    result = cli_run(project, "build", "content/two.yaml")
    assert result.exit_code == 0, result.output
    return project / "out" / "two.pdf", result.stderr


def _words(pdf: Path, page: int) -> list[tuple[str, float]]:
    """(word, top) of one page (0-based), from `pdftotext -bbox`, top measured from the top."""
    xml = subprocess.run(["pdftotext", "-bbox", "-f", str(page + 1), "-l", str(page + 1),
                          str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return [(word, float(top)) for top, word in re.findall(
        r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">([^<]*)', xml)]


def test_the_build_succeeds_with_only_the_shadowing_warning(built: tuple[Path, str]) -> None:
    _, stderr = built
    warnings = [line for line in stderr.splitlines() if "warning:" in line]
    assert warnings == [
        "content/two.yaml:19: warning: footnote [^top] defined in this text shadows the one "
        "in `footnotes:` (line 21); calls in this text use this one"
    ]


def test_every_definition_is_its_own_note_under_its_own_number(built: tuple[Path, str]) -> None:
    pdf, _ = built
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    notes = text[text.rindex("Notes"):]
    for word, number in dict(CALLS).items():
        assert f"{number} {word} text." in " ".join(notes.split()), notes
    assert "First answer. 1 Again. 1" in text
    assert "Second answer. 2 Shared. 3" in text
    assert "Third answer. 4" in text


def test_each_call_links_to_its_own_note(built: tuple[Path, str]) -> None:
    pdf, _ = built
    reader = PdfReader(pdf)
    page_of = {page.indirect_reference.idnum: n for n, page in enumerate(reader.pages)}
    body = 1  # cover, then the body with the notes after it
    height = float(reader.pages[body].mediabox.height)
    notes_page = next(n for n in range(body, len(reader.pages))
                      if any(w == "Notes" for w, _ in _words(pdf, n)))
    notes_top = min(top for w, top in _words(pdf, notes_page) if w == "Notes")
    links = []
    for annot in reader.pages[body].get("/Annots") or []:
        annot = annot.get_object()
        dest = annot.get("/Dest")
        if dest is None:
            continue
        target = page_of[dest[0].idnum]
        if target < notes_page or height - float(dest[3]) < notes_top - 2:
            continue  # the contents, and the notes' links back to their calls
        left, top = float(annot["/Rect"][0]), float(annot["/Rect"][1])
        links.append((-top, left, target, float(dest[3])))
    links.sort()
    assert len(links) == len(CALLS)
    for (_, _, target, dest_y), (word, _number) in zip(links, CALLS, strict=True):
        words = _words(pdf, target)
        # the note the destination lands on: the first note text at or below the destination
        below = [(top, w) for w, top in words if w.endswith("NOTE") and top >= height - dest_y - 2]
        assert below, (word, dest_y)
        assert min(below)[1] == word


def test_a_call_to_another_answers_note_is_an_error(tmp_path: Path) -> None:
    text = TWO_ANSWERS.replace("Third answer.[^top]", "Third answer.[^1][^top]")
    project = write_project(tmp_path, {"content/two.yaml": text})
    result = cli_run(project, "check", "content/two.yaml")
    assert result.exit_code == 1
    assert ("content/two.yaml:17: footnote [^1] is never defined in this text or in "
            "`footnotes:`; the definitions on lines 9, 14 belong to their own answers: move "
            "one to `footnotes:` to share it") in result.stderr.splitlines()


def test_notes_at_the_foot_of_the_page_are_kept_apart_too(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"content/two.yaml": "notes: page\n" + TWO_ANSWERS})
    result = cli_run(project, "build", "content/two.yaml")
    assert result.exit_code == 0, result.output
    text = " ".join(subprocess.run(["pdftotext", str(project / "out" / "two.pdf"), "-"],
                                   check=True, capture_output=True, text=True).stdout.split())
    for word, number in dict(CALLS).items():
        assert f"{number} {word} text." in text, text
