"""The console script as a user runs it: outputs, exit codes, messages, paper size, any folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import MINIMAL, run_briefing, write_project


@pytest.fixture(scope="module")
def letter_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A project outside the repository, with no templates or styles of its own."""
    project = write_project(tmp_path_factory.mktemp("elsewhere"), {"content/brief.yaml": MINIMAL})
    result = run_briefing("build", "--paper", "letter", cwd=project)
    assert result.returncode == 0, result.stderr
    return project, result.stdout


def test_build_in_any_folder_with_builtin_theme(letter_build: tuple[Path, str]) -> None:
    project, stdout = letter_build
    assert (project / "out" / "brief.pdf").is_file()
    assert (project / "out" / "brief.html").is_file()
    row = next(line for line in stdout.splitlines() if line.startswith("out/brief.pdf"))
    assert row.split()[1] == "2"  # the summary table: output, pages (cover; body and notes)


def test_paper_letter(letter_build: tuple[Path, str]) -> None:
    project, _ = letter_build
    reader = PdfReader(project / "out" / "brief.pdf")
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (612, 792)


def test_content_error_exit_1_with_path_and_line(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"content/bad.yaml": """\
        title: Bad
        sections:
          - title: S
            questions:
              - question: Q?
                answr: A.
        """})
    result = run_briefing("build", cwd=project)
    assert result.returncode == 1
    assert "content/bad.yaml:6: unknown key `answr` in a question; did you mean `answer`?" in (
        result.stderr
    )
    # the misspelt key is checked as `answer`: the question is not also said to lack one
    assert "missing the required `answer`" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((project / "out").glob("*")) if (project / "out").exists() else True


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", {"content/a.yaml": MINIMAL})
    assert run_briefing("build", "--paper", "tabloid", cwd=project).returncode == 2
    assert run_briefing("build", "missing.yaml", cwd=project).returncode == 2
    nowhere = tmp_path / "empty"
    nowhere.mkdir()
    result = run_briefing("build", cwd=nowhere)
    assert result.returncode == 2
    assert "no `content/` folder" in result.stderr


def test_python_dash_m_and_help(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "briefing", "--help"], capture_output=True,
                            text=True, cwd=tmp_path)
    assert result.returncode == 0
    assert "build" in result.stdout and "check" in result.stdout
