"""Output names come from content file names; none can write outside out/ or hide there.

And one bad document in a multi-document build does not stop the others: the summary names what
failed and the exit code is 1 (the installed console script, end to end).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from badinput import GOOD, RAW_CONTROL, cli_run, files_in, project_with
from pypdf import PdfReader

from briefing import api
from briefing.output import safe_name

from conftest import pdftotext, run_briefing

HOSTILE_STEMS = [
    ".", "..", "...", ".hidden", "a b;c", "../../etc/passwd", "..\\..\\windows", "/abs/path",
    "x\x1b[2Jy", "\x00", "nul\x00byte", "-rf", "--out", "~user", "$HOME", "*", "con", "ខ្មែរ",
    "name\n.pdf", "trailing.", "a/../../b", "\u202eexe.pdf",
]


@pytest.mark.parametrize("stem", HOSTILE_STEMS, ids=repr)
def test_safe_name_stays_in_the_folder(stem: str, tmp_path: Path) -> None:
    name = safe_name(stem)
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name), name
    assert ".." not in name.split(".")[0:1]
    out = tmp_path / "out"
    assert (out / f"{name}.pdf").resolve().parent == out.resolve()


def test_safe_name_keeps_ordinary_names() -> None:
    assert safe_name("cambodia-faq") == "cambodia-faq"
    assert safe_name("cambodia-faq.km") == "cambodia-faq.km"
    assert safe_name("Q3_2025") == "Q3_2025"


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root but out/: what a build must not touch."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and "out" not in p.relative_to(root).parts}


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes], object]:
    """`briefing build` of a project with one good, one bad and one hidden bad document."""
    project = project_with(tmp_path_factory.mktemp("multi"), {
        "a b;c.yaml": GOOD.replace("A small briefing", "Semicolon document"),
        "bad.yaml": GOOD.replace("  - title: Questions", "  - title: [Questions]"),
        ".hidden.yaml": "not: [valid\n",
    })
    before = tree(project)
    done = run_briefing("build", cwd=project, timeout=120)
    return project, before, done


def test_one_bad_document_does_not_stop_the_others(multi: tuple) -> None:
    project, _, done = multi
    assert done.returncode == 1, done.stderr
    assert "content/bad.yaml:3: `title` must be text, not a list" in done.stderr
    assert "failed: content/bad.yaml" in done.stderr
    assert done.stderr.rstrip().endswith("1 built, 1 failed: content/bad.yaml")
    assert "out/a-b-c.pdf" in done.stdout
    assert files_in(project / "out") == ["a-b-c.html", "a-b-c.pdf"]
    assert len(PdfReader(project / "out" / "a-b-c.pdf").pages) >= 2
    assert "Semicolon document" in pdftotext(project / "out" / "a-b-c.pdf")


def test_hidden_files_are_not_built(multi: tuple) -> None:
    _, _, done = multi
    assert ".hidden" not in done.stderr + done.stdout


def test_nothing_outside_out_is_written(multi: tuple) -> None:
    project, before, _ = multi
    assert tree(project) == before


@pytest.fixture(scope="module")
def odd_names(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, api.BuildResult]:
    project = project_with(tmp_path_factory.mktemp("odd"), {
        "..yaml": GOOD.replace("A small briefing", "Dots only"),
        "a b.yaml": GOOD.replace("A small briefing", "Space name"),
        "A-B.yaml": GOOD.replace("A small briefing", "Same name folded"),
    })
    content = project / "content"
    paths = [content / "..yaml", content / "a b.yaml", content / "A-B.yaml"]
    return project, api.build(paths, project=project)


def test_dot_and_space_names_land_in_out(odd_names: tuple[Path, api.BuildResult]) -> None:
    project, result = odd_names
    assert sorted(o.pdf.name for o in result.outputs) == ["a-b.pdf", "document.pdf"]
    assert files_in(project / "out") == ["a-b.html", "a-b.pdf", "document.html", "document.pdf"]
    assert "Dots only" in pdftotext(project / "out" / "document.pdf")
    assert "Space name" in pdftotext(project / "out" / "a-b.pdf")


def test_clashing_output_names_fail_instead_of_overwriting(
    odd_names: tuple[Path, api.BuildResult]
) -> None:
    _, result = odd_names
    [(path, error)] = result.failures
    assert path.name == "A-B.yaml"
    [problem] = error.problems
    assert "output name `A-B` is already used by" in problem.message
    assert "a b.yaml" in problem.message


def test_control_characters_in_file_names_are_escaped(tmp_path: Path) -> None:
    name = "evil\x1b[2J\u202e.yaml"
    project = project_with(tmp_path, {name: "title: [x]\n"})
    for command in ("check", "build"):
        result = cli_run(project, command)
        assert result.exit_code == 1
        assert "content/evil\\x1b[2J\\u202e.yaml:1: `title` must be text" in result.stderr
        assert not RAW_CONTROL.search(result.stderr + result.stdout)
    assert files_in(project / "out") == []
