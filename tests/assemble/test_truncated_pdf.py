"""A truncated supplied PDF (a cover, a pack's attachment): only briefing's message on stderr.

pypdf reports what it repairs through its own logger ("EOF marker not found") and Python
warnings; run as a user runs it (the console script, no logging set up), none of that may
reach stderr ahead of briefing's message naming the file.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfWriter

from conftest import run_briefing, write_project

DOC = """\
title: Doc
cover: covers/cut.pdf
sections:
  - title: Questions
    questions:
      - question: Q?
        answer: A.
"""
PACK = "title: Pack\nitems:\n  - document: ../doc.yaml\n  - pdf: cut.pdf\n    title: A study\n"


def _truncated_pdf() -> bytes:
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    whole = buffer.getvalue()
    return whole[: len(whole) * 2 // 3]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cut = _truncated_pdf()
    return write_project(tmp_path_factory.mktemp("cut"), {
        "content/doc.yaml": DOC, "content/covers/cut.pdf": cut,
        "content/ok.yaml": DOC.replace("cover: covers/cut.pdf\n", ""),
        "content/packs/pack.yaml": PACK.replace("doc.yaml", "ok.yaml"),
        "content/packs/cut.pdf": cut,
    })


def _messages(stderr: str) -> list[str]:
    """stderr without the progress lines (`[1] ...: failed (0.0 s)`), which carry a time."""
    return [line for line in stderr.splitlines() if not line.startswith("[")]


def test_a_truncated_cover_prints_only_briefings_message(project: Path) -> None:
    result = run_briefing("build", "content/doc.yaml", cwd=project)
    assert result.returncode == 1
    assert _messages(result.stderr) == [
        "content/covers/cut.pdf: cover is not a readable PDF (PdfStreamError: Stream has "
        "ended unexpectedly)",
        "0 built, 1 failed: content/doc.yaml",
    ], result.stderr
    assert not (project / "out" / "doc.pdf").exists()


def test_a_truncated_attachment_of_a_pack_too(project: Path) -> None:
    result = run_briefing("build", "content/packs/pack.yaml", cwd=project)
    assert result.returncode == 1
    messages = _messages(result.stderr)
    assert len(messages) == 2, result.stderr
    assert messages[0].startswith("content/packs/cut.pdf: ")
    assert "not a readable PDF" in messages[0]
    assert "EOF marker" not in result.stderr and "pypdf" not in result.stderr


def test_verbose_shows_what_pypdf_said_naming_the_file(project: Path) -> None:
    result = run_briefing("-v", "build", "content/doc.yaml", cwd=project)
    assert result.returncode == 1
    assert "content/covers/cut.pdf: pypdf: " in result.stderr
