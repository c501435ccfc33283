"""`briefing check`: validation without rendering, every problem of every file, one format.

Exit codes (shared with `build`): 0 fine, 1 content problems, 2 usage errors.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from badinput import GOOD, assert_rejected, cli_run, files_in, project_with

from briefing import api
from briefing.errors import BriefingError
from briefing.source.prepare import prepare

from conftest import run_briefing, write_project

UNUSED_NOTE = GOOD + "footnotes:\n  spare: Never called.\n"


def test_check_does_not_import_weasyprint(tmp_path: Path) -> None:
    """Validation is fast because it never loads the renderer (library API and CLI)."""
    project = project_with(tmp_path, {"good.yaml": GOOD, "bad.yaml": "title: [x]\n"})
    script = (
        "import sys\n"
        "import briefing\n"
        "result = briefing.check(project=__import__('pathlib').Path('.'))\n"
        "assert len(result.problems) == 2, result\n"
        "from briefing.cli import cli\n"
        "try:\n"
        "    cli(['check'], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('weasyprint', 'pydyf', 'tinycss2', 'cssselect2')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=project, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert "content/bad.yaml:1: `title` must be text, not a list" in done.stderr


def test_every_file_is_checked_after_a_bad_one(tmp_path: Path) -> None:
    project = project_with(tmp_path, {
        "a-syntax.yaml": "title: 'open\n",
        "b-schema.yaml": GOOD.replace("answer:", "answr:"),
        "c-good.yaml": GOOD,
        "d-notes.yaml": UNUSED_NOTE,
    })
    result = api.check(project=project)
    assert [p.name for p in result.documents] == [
        "a-syntax.yaml", "b-schema.yaml", "c-good.yaml", "d-notes.yaml"]
    where = [(Path(p.path).name, p.line, p.severity) for p in result.problems]
    assert where == [
        ("a-syntax.yaml", 1, "error"),
        # the typo, once: the value is checked as the `answer` it most likely is, so the
        # question is not also said to lack one
        ("b-schema.yaml", 6, "error"),
        ("d-notes.yaml", 8, "warning"),
    ]
    assert result.failed()


def test_footnotes_undefined_is_error_unused_is_warning_both_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("made in a test.", "made in a test.\n          Twice[^gone].")
    text = text.replace("answer: A document", "answer: |\n          A document")
    text += "footnotes:\n  spare: Never called.\n"
    project = project_with(tmp_path, {"notes.yaml": text})
    problems = api.check(project=project).problems
    assert [(p.line, p.severity, p.message) for p in problems] == [
        (8, "error", "footnote [^gone] is never defined"),
        (10, "warning", "footnote [^spare] is defined but never used"),
    ]


def test_unused_footnote_fails_only_with_strict(tmp_path: Path) -> None:
    project = project_with(tmp_path, {"notes.yaml": UNUSED_NOTE})
    plain = cli_run(project, "check")
    assert plain.exit_code == 0, plain.output
    assert "content/notes.yaml:8: warning: footnote [^spare] is defined but never used" in (
        plain.stderr)
    strict = cli_run(project, "check", "--strict")
    assert strict.exit_code == 1
    assert "content/notes.yaml:8: warning: footnote [^spare]" in strict.stderr
    assert "--strict" in strict.stderr


def test_build_strict_fails_on_a_warning_and_writes_nothing(tmp_path: Path) -> None:
    project = project_with(tmp_path, {"notes.yaml": UNUSED_NOTE})
    result = cli_run(project, "build", "--strict")
    assert result.exit_code == 1
    assert ("content/notes.yaml:8: footnote [^spare] is defined but never used (--strict)"
            in result.stderr)
    assert files_in(project / "out") == []


def test_json_format(tmp_path: Path) -> None:
    project = project_with(tmp_path, {
        "bad.yaml": GOOD.replace("sections:", "date: 2025-02-30\nsections:"),
        "notes.yaml": UNUSED_NOTE,
    })
    result = cli_run(project, "check", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report == {
        "documents": ["content/bad.yaml", "content/notes.yaml"],
        "problems": [
            {"path": "content/bad.yaml", "line": 2, "severity": "error",
             "message": "`date` must be a real date as YYYY-MM-DD, not `2025-02-30`"},
            {"path": "content/notes.yaml", "line": 8, "severity": "warning",
             "message": "footnote [^spare] is defined but never used"},
        ],
        "ok": False,
    }
    fine = cli_run(project, "check", "--format", "json", "content/notes.yaml")
    assert fine.exit_code == 0
    assert json.loads(fine.stdout)["ok"] is True
    strict = cli_run(project, "check", "--format", "json", "--strict", "content/notes.yaml")
    assert strict.exit_code == 1
    assert json.loads(strict.stdout)["ok"] is False


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    project = project_with(tmp_path / "project", {"good.yaml": GOOD})
    for args in (["check", "content/missing.yaml"], ["build", "content/missing.yaml"],
                 ["check", "--format", "xml"], ["build", "--paper", "a0"], ["check", "content"]):
        result = cli_run(project, *args)
        assert result.exit_code == 2, (args, result.output)
    nowhere = tmp_path / "no-project"
    nowhere.mkdir()
    assert cli_run(nowhere, "check").exit_code == 2
    assert cli_run(project, "check").exit_code == 0


def test_no_documents_is_an_error_for_check_and_build(tmp_path: Path) -> None:
    project = project_with(tmp_path, {})
    for command in ("check", "build"):
        result = cli_run(project, command)
        assert result.exit_code == 1
        assert "no documents (*.yaml)" in result.stderr


def test_check_and_build_print_the_same_messages(tmp_path: Path) -> None:
    text = GOOD.replace("title: A small briefing", "title: [x]").replace("answer:", "answr:")
    project = project_with(tmp_path, {"bad.yaml": text})
    check = cli_run(project, "check").stderr.splitlines()
    build = cli_run(project, "build").stderr.splitlines()
    problems = [line for line in check if line.startswith("content/")]
    assert len(problems) == 2  # the list title, the misspelt `answr` (checked as `answer`)
    assert [line for line in build if line.startswith("content/")] == problems


def test_console_script_end_to_end(tmp_path: Path) -> None:
    """The installed `briefing check`, as CI runs it: JSON on stdout, exit code 1."""
    project = project_with(tmp_path, {"good.yaml": GOOD, "bad.yaml": "title: x\ntitle: y\n"})
    done = run_briefing("check", "--format", "json", cwd=project, timeout=60)
    assert done.returncode == 1, done.stderr
    # the duplicate key does not hide the schema's problems
    assert json.loads(done.stdout)["problems"] == [
        {"path": "content/bad.yaml", "line": 1, "severity": "error",
         "message": "the document is missing the required `sections`"},
        {"path": "content/bad.yaml", "line": 2, "severity": "error",
         "message": "duplicate key `title` (first given on line 1)"}]
    good = run_briefing("check", "content/good.yaml", cwd=project, timeout=60)
    assert (good.returncode, good.stderr) == (0, "1 document(s) OK\n")


@pytest.mark.timeout(30)  # speed is measured in bench/, not asserted: this only catches a hang
def test_check_reads_many_files_without_rendering(tmp_path: Path) -> None:
    project = project_with(tmp_path, {f"doc-{n}.yaml": UNUSED_NOTE for n in range(20)})
    result = api.check(project=project)
    assert len(result.problems) == 20


# -- images in Markdown must be files inside the project

IMAGE_DOC = """\
title: Images
sections:
  - title: Pictures
    questions:
      - question: Which?
        answer: |
          {}
"""


def image_doc(markdown: str) -> str:
    return IMAGE_DOC.format(markdown.replace("\n", "\n          "))


@pytest.fixture
def image_project(tmp_path: Path) -> Path:
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"\x89PNG")
    project = write_project(tmp_path / "project", {"images/logo.png": b"\x89PNG",
                                                   "images/notes.txt": "text"})
    (project / "images" / "escape.png").symlink_to(outside)
    (project / "content" / "images").symlink_to(project / "images")
    return project


BAD_IMAGES = {
    "missing": ("![a](images/none.png)", "does not exist"),
    "parent-escape": ("![a](../../outside.png)", "is outside the project"),
    "deep-escape": ("![a](../../../../../../etc/passwd)", "is outside the project"),
    "percent-encoded-escape": ("![a](..%2F..%2F..%2Foutside.png)", "is outside the project"),
    "absolute": ("![a](/etc/passwd)", "is outside the project"),
    "symlink-escape": ("![a](images/escape.png)", "is outside the project"),
    "http": ("![a](http://127.0.0.1:9/x.png)", "briefing never downloads"),
    "https": ("![a](https://example.org/x.png)", "briefing never downloads"),
    "protocol-relative": ("![a](//example.org/x.png)", "briefing never downloads"),
    "file-url": ("![a](file:///etc/passwd)", "`file:` addresses are not allowed"),
    "data-url": ("![a](data:image/png;base64,iVBORw0KGgo=)", "`data:` addresses"),
    "windows-drive": ("![a](C:/Windows/win.ini)", "`c:` addresses are not allowed"),
    "not-an-image": ("![a](images/notes.txt)", "is not a png"),
    "reference-style": ("![a][pic]\n\n[pic]: /etc/hostname", "is outside the project"),
    "second-line": ("First line,\nthen ![a](images/none.png)", "does not exist"),
}


@pytest.mark.parametrize("case", sorted(BAD_IMAGES))
def test_bad_image_is_a_content_error_at_its_line(case: str, image_project: Path) -> None:
    markdown, fragment = BAD_IMAGES[case]
    (image_project / "content" / "doc.yaml").write_text(image_doc(markdown))
    line = 8 if case == "second-line" else 7
    assert_rejected(image_project, "doc.yaml", line, fragment)


def test_images_inside_the_project_are_fine(image_project: Path) -> None:
    markdown = ("![one](../images/logo.png) ![two](images/logo.png)\n"
                "![three](<../images/logo.png>) [not an image](https://example.org)")
    (image_project / "content" / "doc.yaml").write_text(image_doc(markdown))
    assert api.check(project=image_project).problems == ()


def test_images_in_notes_and_intros_are_checked(image_project: Path) -> None:
    text = image_doc("Answer.[^n]").replace(
        "  - title: Pictures\n", "  - title: Pictures\n    intro: '![i](/etc/passwd)'\n")
    text += "footnotes:\n  n: See ![m](images/missing.png).\n"
    (image_project / "content" / "doc.yaml").write_text(text)
    problems = api.check(project=image_project).problems
    assert [(p.line, p.message.split(" is ")[0].split(" does ")[0]) for p in problems] == [
        (4, "image `/etc/passwd`"), (10, "image `images/missing.png`")]


def test_prepare_raises_the_one_error_type(image_project: Path) -> None:
    (image_project / "content" / "doc.yaml").write_text(image_doc("![a](/etc/passwd)"))
    with pytest.raises(BriefingError) as caught:
        prepare(image_project / "content" / "doc.yaml", image_project)
    assert [p.line for p in caught.value.problems] == [7]
