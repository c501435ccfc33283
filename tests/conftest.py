"""Shared fixtures: throwaway projects made from a dict of files, and PDF readers."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: the tests folder: fixtures/ and golden/ live here, whichever subfolder a test is in
TESTS = REPO / "tests"

MINIMAL = """\
title: A small briefing
subtitle: For the tests
sections:
  - title: Questions
    questions:
      - question: What is this?
        answer: A document made in a test.[^n]
footnotes:
  n: A note.
"""


def write_project(root: Path, files: dict[str, str | bytes]) -> Path:
    """Make a project folder (with `content/`) from relative paths and their contents."""
    (root / "content").mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(textwrap.dedent(data), encoding="utf-8")
    return root


def cpu_seconds(pid: int) -> float:
    """CPU time process `pid` has used (user and system), from /proc; 0 once it is gone:
    what a test waits on, where a wall-clock pause would depend on the machine's speed."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def page_numbered_faq(title: str, questions: int, notes: int, sentences: tuple[int, int]) -> str:
    """A document whose contents and notes' back-links all print page numbers: question n is
    `sentences[0] + n % sentences[1]` sentences long and calls note n % `notes`."""
    lines = [f"title: {title}", "sections:", "  - title: Questions", "    questions:"]
    sentence = "The public justice system responds to the crime and the survivors. "
    for n in range(questions):
        lines += [f"      - question: Question {n + 1} with a page number?",
                  f"        answer: {sentence * (sentences[0] + n % sentences[1])}"
                  f"[^n{n % notes}]"]
    lines.append("footnotes:")
    lines += [f"  n{i}: Note {i}." for i in range(notes)]
    return "\n".join(lines) + "\n"


def installed_over_its_source_only(install: Callable[[], bool], owner: object, name: str,
                                   own: object, mine: object,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`install` leaves another function at `owner.name` alone (its source is not the one the
    replacement was written for), and puts `mine` there over WeasyPrint's `own`."""

    def other(*args: object, **kwargs: object) -> None:
        """Another WeasyPrint's function."""

    monkeypatch.setattr(owner, name, other)
    assert not install()
    assert getattr(owner, name) is other
    monkeypatch.setattr(owner, name, own)
    assert install()
    assert getattr(owner, name) is mine


def one_layout_html(root: Path, document: str, **options: bool) -> tuple[str, Path]:
    """The HTML of `document`'s one layout on A5 (`options`: document_html's), and the project
    made for it in `root` (the document is its content/doc.yaml)."""
    from briefing.render.html import PAPERS, document_html
    from briefing.render.theme import theme_for
    from briefing.source.prepare import prepare

    project = write_project(root, {"content/doc.yaml": document})
    composed = prepare(project / "content" / "doc.yaml", project)
    html = document_html(composed, theme_for(REPO), PAPERS["a5"], **options)
    assert html is not None
    return html, project


@pytest.fixture
def rendered_parts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every part WeasyPrint is asked to lay out from now on in this test
    (`jobs/parts.render_pdf`), in order: what a build lays out, counted on the real thing."""
    from briefing.jobs import parts

    names: list[str] = []
    real = parts.render_pdf

    def counting(html: str, **kwargs: object) -> object:
        names.append(str(kwargs["name"]))
        return real(html, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parts, "render_pdf", counting)
    return names


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    def make(files: dict[str, str | bytes]) -> Path:
        return write_project(tmp_path / "project", files)

    return make


def pdftotext(pdf: Path, *args: str) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *args, str(pdf), "-"],
        check=True, capture_output=True, text=True,
    ).stdout


def run_briefing(*args: str, cwd: Path, env: dict[str, str] | None = None,
                 timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user runs it."""
    exe = shutil.which("briefing") or str(Path(__import__("sys").executable).parent / "briefing")
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=timeout)
