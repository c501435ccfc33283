"""Problems found while rendering are reported, not dropped; limits are checked before layout
everywhere a document is read (check, build, packs)."""

from __future__ import annotations

from pathlib import Path

import briefing
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
