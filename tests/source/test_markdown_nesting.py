"""Deep Markdown is an error with its line, never text that silently disappears.

markdown-it stops parsing below its `maxNesting` level and drops the rest of the block without a
word. briefing sets that limit far above its own MAX_NESTING and refuses deeper Markdown, so
every depth either renders all of its text or is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from badinput import GOOD, project_with
from markdown_it import MarkdownIt

from briefing import api
from briefing.errors import BriefingError
from briefing.source.markdown import MAX_NESTING
from briefing.source.prepare import prepare

ANSWER_LINE = 7  # the first line of the block-scalar answer in `document`


def quotes(depth: int) -> str:
    return ">" * depth + " DEEP TEXT"


def bullets(depth: int) -> str:
    return "\n".join("  " * i + f"- level {i + 1}" for i in range(depth - 1)) + (
        "\n" + "  " * (depth - 1) + "- DEEP TEXT")


def ordered(depth: int) -> str:
    return "\n".join("   " * i + "1. level" for i in range(depth - 1)) + (
        "\n" + "   " * (depth - 1) + "1. DEEP TEXT")


def mixed(depth: int) -> str:
    """A list in a quote in a list in a quote..., each level one container."""
    lines, prefix = [], ""
    for level in range(depth - 1):
        if level % 2 == 0:
            prefix += "> "
            lines.append(prefix.rstrip())
        else:
            lines.append(prefix + "- item")
            prefix += "  "
    marker = "> " if (depth - 1) % 2 == 0 else "- "
    lines.append(prefix + marker + "DEEP TEXT")
    return "\n".join(lines)


SHAPES: dict[str, Callable[[int], str]] = {
    "quotes": quotes, "bullets": bullets, "ordered": ordered, "mixed": mixed}


def document(markdown: str) -> str:
    body = "\n".join("          " + line for line in markdown.split("\n"))
    return GOOD.replace("answer: A document made in a test.", "answer: |\n" + body + "\n" +
                        "          \n          TAIL TEXT")


def test_plain_markdown_it_drops_deep_text() -> None:
    """Why the check exists: with its default limit, markdown-it loses the text silently."""
    html = MarkdownIt("commonmark").render(quotes(40) + "\n\nTAIL TEXT")
    assert "DEEP TEXT" not in html
    assert "TAIL TEXT" in html


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_depth_renders_all_text_or_is_an_error(shape: str, tmp_path: Path) -> None:
    project = project_with(tmp_path, {})
    path = project / "content" / "deep.yaml"
    outcomes = {}
    for depth in (*range(1, MAX_NESTING + 3), 20, 40, 120):
        markdown = SHAPES[shape](depth)
        path.write_text(document(markdown))
        try:
            composed = prepare(path, project)
        except BriefingError as error:
            [problem] = error.problems
            assert "nested more than 10 levels deep" in problem.message
            lines = markdown.split("\n")
            # the line of the first container too deep, or on it (a quote run is one line)
            assert ANSWER_LINE <= problem.line < ANSWER_LINE + len(lines), (depth, problem)
            outcomes[depth] = "error"
            continue
        html = next(iter(composed.answers.values())).html(lambda a: f"#{a}")
        assert "DEEP TEXT" in html and "TAIL TEXT" in html, (depth, html)
        outcomes[depth] = "ok"
    assert [d for d, o in outcomes.items() if o == "ok"] == list(range(1, MAX_NESTING + 1))


def test_error_names_the_line_where_it_gets_too_deep(tmp_path: Path) -> None:
    project = project_with(tmp_path, {"deep.yaml": document(bullets(MAX_NESTING + 1))})
    with pytest.raises(BriefingError) as caught:
        prepare(project / "content" / "deep.yaml", project)
    assert [p.line for p in caught.value.problems] == [ANSWER_LINE + MAX_NESTING]


def test_deep_inline_markup_keeps_its_text(tmp_path: Path) -> None:
    """Inline nesting (emphasis, brackets) does not count against the limit and loses nothing."""
    markdown = "**a " * 60 + "DEEP TEXT" + " b**" * 60 + " " + "[" * 60 + "x" + "](u)" * 60
    project = project_with(tmp_path, {"inline.yaml": document(markdown)})
    composed = prepare(project / "content" / "inline.yaml", project)
    html = next(iter(composed.answers.values())).html(lambda a: f"#{a}")
    assert "DEEP TEXT" in html and "TAIL TEXT" in html


def test_inline_note_inside_a_note_is_an_error_not_lost_text(tmp_path: Path) -> None:
    text = GOOD.replace("made in a test.", "made in a test.^[outer ^[INNER]]")
    project = project_with(tmp_path, {"notes.yaml": text})
    problems = api.check(project=project).problems
    assert [(p.line, p.severity) for p in problems] == [(6, "error")]
    assert "cannot contain an inline footnote" in problems[0].message
