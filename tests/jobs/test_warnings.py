"""Problems found while rendering are reported, not dropped; limits are checked before layout
everywhere a document is read (check, build, packs)."""

from __future__ import annotations

from pathlib import Path

import pytest

import briefing
from briefing.jobs import pack as jobs_pack
from briefing.source.limits import MAX_WORD_LETTERS

from conftest import run_briefing, write_project

BROKEN_IMAGE = """\
title: Broken image
sections:
  - title: S
    questions:
      - question: Q?
        answer: "![chart](chart.png)"
"""

LONG_WORD = f"""\
title: Long word
sections:
  - title: S
    questions:
      - question: Q?
        answer: |
          Fine text.

          {"x" * (MAX_WORD_LETTERS + 5)}
"""


def test_unreadable_image_is_a_warning_and_fails_under_strict(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"content/img.yaml": BROKEN_IMAGE,
                                       "content/chart.png": b"not a png"})
    result = briefing.build(project=project)
    assert result.ok
    (output,) = result.outputs
    assert any("chart.png" in w.message for w in output.warnings)
    strict = run_briefing("build", "--strict", "--out", "strict-out", cwd=project)
    assert strict.returncode == 1
    assert "chart.png" in strict.stderr
    assert not (project / "strict-out" / "img.pdf").exists()


def test_check_reports_the_long_word_at_its_line(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"content/long.yaml": LONG_WORD})
    result = run_briefing("check", cwd=project)
    assert result.returncode == 1
    assert "content/long.yaml:9: a word of" in result.stderr


def test_pack_documents_get_the_same_limits(tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "content/long.yaml": LONG_WORD,
        "content/packs/p.yaml": "title: P\nitems:\n  - document: ../long.yaml\n",
    })
    result = briefing.build([project / "content/packs/p.yaml"], project=project)
    assert not result.ok
    ((_, error),) = result.failures
    assert any(p.line == 9 and "a word of" in p.message for p in error.problems)


def test_strict_pack_fails_on_a_warning_of_one_of_its_documents(tmp_path: Path) -> None:
    unused = "title: U\nsections:\n  - title: S\n    questions:\n      - question: Q?\n" \
             "        answer: A.\nfootnotes:\n  never: Never called.\n"
    project = write_project(tmp_path, {
        "content/unused.yaml": unused,
        "content/packs/p.yaml": "title: P\nitems:\n  - document: ../unused.yaml\n",
    })
    pack = project / "content/packs/p.yaml"
    assert briefing.build([pack], project=project).ok
    strict = briefing.build([pack], project=project, strict=True, out_dir=tmp_path / "strict")
    ((_, error),) = strict.failures
    assert any("never used" in p.message and p.line == 8 for p in error.problems)
    assert not (tmp_path / "strict" / "packs" / "p.pdf").exists()


def _pack_with_a_late_odd_name(tmp_path: Path) -> Path:
    """Five recipients in covers of two per run: the fifth name, laid out by the third run
    (after the pack's own warnings were collected), has a character no font has."""
    names = ["Ana", "Ben", "Chi", "Dee", "Eve \ue000"]
    return write_project(tmp_path, {
        "content/d.yaml": "title: D\nsections:\n  - title: S\n    questions:\n"
                          "      - question: Q?\n        answer: A.\n",
        "content/packs/p.yaml": "title: P\nitems:\n  - document: ../d.yaml\n"
                                "recipients: r.csv\n",
        "content/packs/r.csv": "name,organisation\n" + "".join(f"{n},Org\n" for n in names),
    })


def test_a_later_batch_of_covers_reports_its_warnings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs_pack, "COVERS_PER_RUN", 2)
    project = _pack_with_a_late_odd_name(tmp_path)
    pack = project / "content/packs/p.yaml"
    result = briefing.build([pack], project=project, jobs=1)
    assert result.ok
    assert len(result.outputs) == 5
    found = [w for o in result.outputs for w in o.warnings if "E000" in w.message.upper()]
    assert len(found) == 1, [w for o in result.outputs for w in o.warnings]
    assert str(found[0].path).endswith("content/packs/r.csv") and found[0].line == 6
    # under --strict the warning fails the build, and the copy that has it is not written
    strict = briefing.build([pack], project=project, jobs=1, strict=True,
                            out_dir=tmp_path / "strict")
    assert not strict.ok
    ((_, error),) = strict.failures
    assert any("(--strict)" in p.message and "E000" in p.message.upper()
               for p in error.problems)
    assert not (tmp_path / "strict" / "packs" / "p" / "eve.pdf").exists()
