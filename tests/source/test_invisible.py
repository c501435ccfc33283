"""Invisible characters and look-alike letters inside numbers, addresses and links: warnings.

The messages themselves are the case fixtures/content/invisible.yaml (with its .expected file,
run by test_content_fixtures.py); here: `build` says the same, `--strict` fails on them, and
the Khmer seed document, full of legitimate zero-width spaces, gets none of them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from badinput import cli_run

from conftest import TESTS

CASE = TESTS / "fixtures" / "content" / "invisible.yaml"


def _expected() -> list[str]:
    lines = CASE.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip()]


def _project(tmp_path: Path) -> Path:
    (tmp_path / "content").mkdir()
    shutil.copyfile(CASE, tmp_path / "content" / CASE.name)
    return tmp_path


def test_build_prints_the_warnings_and_still_builds(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = cli_run(project, "build", "content/invisible.yaml")
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if ": warning: " in line] == _expected()
    assert (project / "out" / "invisible.pdf").is_file()


def test_strict_check_fails_on_them(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = cli_run(project, "check", "--strict", "content/invisible.yaml")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == _expected()[0]
    assert "content/invisible.yaml:9: warning: invisible character U+200B ZERO WIDTH SPACE" in (
        result.stderr)


KHMER = """\
title: ទំនាក់ទំនង
lang: km
sections:
  - title: សំណួរ
    questions:
      - question: ខ្ញុំ\u200bទាក់ទង\u200bយ៉ាងដូចម្តេច?
        answer: |
          សូម\u200bផ្ញើ\u200binfo@example.org\u200bទៅ\u200bយើង។
          ទូរសព្ទ\u200b+855 23 123 456\u200bឬ\u200b០១២\u200b៣៤៥\u200b៦៧៨\u200bឥតគិតថ្លៃ។
          មើល\u200bhttps://example.org/km\u200bផង។
"""


def test_khmer_zero_width_spaces_between_words_are_left_alone(tmp_path: Path) -> None:
    """Khmer marks word breaks with U+200B, also right next to a number or an address."""
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "km.yaml").write_text(KHMER, encoding="utf-8")
    assert "\u200b" in (tmp_path / "content" / "km.yaml").read_text(encoding="utf-8")
    result = cli_run(tmp_path, "check", "--strict", "content/km.yaml")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip() == "1 document(s) OK"
