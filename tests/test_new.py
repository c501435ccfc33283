"""`briefing new`: a starter project that builds at once, and never overwrites anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import pdftotext, run_briefing


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("new")
    done = run_briefing("new", "project", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "Next: cd project && briefing build" in done.stdout
    project = root / "project"
    built = run_briefing("build", "--strict", cwd=project)  # no warning either
    assert built.returncode == 0, built.stderr
    return project


def test_the_starter_has_a_faq_a_pack_and_the_project_file(started: Path) -> None:
    for name in ("briefing.toml", "content/faq.yaml", "content/packs/partner-pack.yaml",
                 "content/packs/recipients.csv", "content/packs/attachments/fact-sheet.pdf",
                 "images/logo.svg", ".gitignore"):
        assert (started / name).is_file(), name
    # commented, for a reader who learns the format from it
    assert (started / "content/faq.yaml").read_text(encoding="utf-8").count("# ") > 20


def test_the_starter_faq_builds_with_every_feature(started: Path) -> None:
    pdf = started / "out" / "faq.pdf"
    text = pdftotext(pdf)
    assert "Our Programme: Questions and Answers" in text
    assert "INTERNAL: FOR STAFF USE" in text.upper()               # classification
    assert "Foundation A" in text                                  # a table
    assert "A note written inside the answer" in text              # an inline note definition
    assert "Their names are in the annual report." in text         # a ^[...] note
    outline = [item.title for item in PdfReader(pdf).outline if not isinstance(item, list)]
    assert outline[0] == "Cover" and "Notes" in outline
    html = (started / "out" / "faq.html").read_text(encoding="utf-8")
    assert "<table" in html and "<s>" in html and "<blockquote>" in html


def test_the_starter_pack_has_a_copy_per_recipient(started: Path) -> None:
    copies = sorted(p.name for p in (started / "out" / "packs" / "partner-pack").glob("*.pdf"))
    assert copies == ["alex-example.pdf", "sam-sample.pdf"]
    first = started / "out" / "packs" / "partner-pack" / "alex-example.pdf"
    assert "Prepared for Alex Example" in pdftotext(first, "-f", "1", "-l", "1")
    assert "Fact sheet" in pdftotext(first, "-f", "2", "-l", "2")


def test_new_refuses_to_overwrite(started: Path) -> None:
    faq = started / "content" / "faq.yaml"
    faq.write_text(faq.read_text(encoding="utf-8") + "# my edit\n", encoding="utf-8")
    before = faq.read_bytes()
    done = run_briefing("new", ".", cwd=started)
    assert done.returncode == 1
    assert "not overwriting what is there already" in done.stderr
    assert faq.read_bytes() == before


def test_new_in_a_folder_with_other_files_only_adds(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    done = run_briefing("new", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (tmp_path / "content" / "faq.yaml").is_file()
    assert "Next: briefing build" in done.stdout


def test_the_web_page_is_self_contained(started: Path, tmp_path: Path) -> None:
    """Moved away from the project, the page still has its image: inlined as a data: URL."""
    import base64
    import re

    moved = tmp_path / "faq.html"
    moved.write_bytes((started / "out" / "faq.html").read_bytes())
    html = moved.read_text(encoding="utf-8")
    sources = re.findall(r'<img\b[^>]*\ssrc="([^"]*)"', html)
    assert sources and all(s.startswith("data:image/svg+xml;base64,") for s in sources)
    inlined = base64.b64decode(sources[0].split(",", 1)[1])
    assert inlined == (started / "images" / "chart.svg").read_bytes()
