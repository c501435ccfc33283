"""`-o/--output`: the name of a single document's PDF (and its web page), made safe.

Pandoc and Typst take `-o`; briefing's folder and file name otherwise come from --out and the
content file's name. For several files or a pack, which make several PDFs, it is a usage error.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from badinput import GOOD, cli_run, files_in, project_with
from pypdf import PdfReader

PACK = "title: A pack\nitems:\n  - document: ../faq.yaml\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return project_with(tmp_path, {"faq.yaml": GOOD, "other.yaml": GOOD,
                                   "packs/pack.yaml": PACK})


def test_the_pdf_and_web_page_get_the_chosen_name(project: Path) -> None:
    result = cli_run(project, "build", "content/faq.yaml", "-o", "briefs/staff-faq.pdf")
    assert result.exit_code == 0, result.output
    pdf = project / "briefs" / "staff-faq.pdf"
    assert PdfReader(pdf).metadata.title == "A small briefing"
    assert "document made in a test" in (project / "briefs" / "staff-faq.html").read_text()
    assert files_in(project / "briefs") == ["staff-faq.html", "staff-faq.pdf"]
    assert files_in(project / "out") == []
    assert "briefs/staff-faq.pdf" in result.stdout


@pytest.mark.parametrize(("given", "written"), [
    ("my brief;v2.pdf", "my-brief-v2.pdf"),    # made safe like a derived name
    ("report", "report.pdf"),                  # .pdf added
    ("..hidden.PDF", "hidden.pdf"),            # no hidden file
    ("ev\x1bil.pdf", "ev-il.pdf"),             # no control character
])
def test_the_chosen_name_is_made_safe(project: Path, given: str, written: str) -> None:
    result = cli_run(project, "build", "--output", given, "content/faq.yaml")
    assert result.exit_code == 0, result.output
    assert written in files_in(project)
    assert written.replace(".pdf", ".html") in files_in(project)


@pytest.mark.parametrize(("files", "fragment"), [
    ((), "give exactly one file (none was given)"),
    (("content/faq.yaml", "content/other.yaml"), "give exactly one file (2 were given)"),
    (("content/packs/pack.yaml",), "content/packs/pack.yaml is a pack"),
])
def test_several_outputs_cannot_share_one_name(project: Path, files: tuple[str, ...],
                                               fragment: str) -> None:
    result = cli_run(project, "build", "-o", "one.pdf", *files)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert "-o/--output names the PDF of one document" in result.stderr
    assert "Traceback" not in result.output
    assert files_in(project / "out") == [] and not (project / "one.pdf").exists()


def test_a_content_error_writes_nothing_under_the_chosen_name(project: Path) -> None:
    (project / "content" / "faq.yaml").write_text(GOOD.replace("answer:", "answr:"))
    result = cli_run(project, "build", "content/faq.yaml", "-o", "chosen.pdf")
    assert result.exit_code == 1
    assert "content/faq.yaml:6: unknown key `answr`" in result.stderr
    assert not (project / "chosen.pdf").exists() and not (project / "chosen.html").exists()


def test_the_library_refuses_it_for_several_files_too(project: Path) -> None:
    import briefing
    from briefing.errors import BriefingError

    files = [project / "content" / "faq.yaml", project / "content" / "other.yaml"]
    with pytest.raises(BriefingError, match="give exactly one file"):
        briefing.build(files, project=project, output=project / "one.pdf")
