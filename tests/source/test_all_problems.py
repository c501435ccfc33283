"""All of a file's problems at once: a misspelt key, a duplicate key or a broken structure does
not hide the problems behind it, and a text's continuation line is reported where it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from badinput import cli_run, project_with

from briefing import api

CASES = [
    pytest.param(
        # a misspelt `questoins`: its questions are still checked
        "title: T\n"                                  # 1
        "sections:\n"                                 # 2
        "  - title: S\n"                              # 3
        "    questoins:\n"                            # 4
        "      - question: [not text]\n"              # 5
        "        answer: A.\n",                       # 6
        ["4: unknown key `questoins` in section 1; did you mean `questions`?",
         "5: `question` must be text, not a list"],
        id="misspelt-key-still-checked"),
    pytest.param(
        # a duplicate key and the schema's problems together
        "title: T\n"                                  # 1
        "title: U\n"                                  # 2
        "sections:\n"                                 # 3
        "  - title: S\n"                              # 4
        "    questions:\n"                            # 5
        "      - question: Q\n"                       # 6
        "        answr: A.\n",                        # 7
        ["2: duplicate key `title` (first given on line 1)",
         "7: unknown key `answr` in a question; did you mean `answer`?"],
        id="duplicate-key-and-schema"),
    pytest.param(
        # an undefined note with structural errors
        "title: [T]\n"                                # 1
        "sections:\n"                                 # 2
        "  - title: S\n"                              # 3
        "    questions:\n"                            # 4
        "      - question: Q\n"                       # 5
        "        answer: See the study.[^study]\n"    # 6
        "      - question: Q2\n",                     # 7
        ["1: `title` must be text, not a list",
         "6: footnote [^study] is never defined",
         "7: a question is missing the required `answer`"],
        id="undefined-note-with-structure"),
    pytest.param(
        # the second line of an answer indented no deeper than `answer:`
        "title: T\n"                                  # 1
        "sections:\n"                                 # 2
        "  - title: S\n"                              # 3
        "    questions:\n"                            # 4
        "      - question: Q\n"                       # 5
        "        answer: The first line of the answer\n"  # 6
        "        and its second line.\n"              # 7
        "      - question: Q2\n"                      # 8
        "        answer: Fine.\n",                    # 9
        ["7: YAML syntax error: this line continues the text of `answer` (line 6) but is "
         "indented too little: indent it further than `answer:`, or start the text on its own "
         "lines with `answer: |`"],
        id="continuation-line-at-its-line"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_every_problem_at_once(tmp_path: Path, text: str, expected: list[str]) -> None:
    project = project_with(tmp_path, {"doc.yaml": text})
    problems = api.check(project=project).problems
    got = [f"{p.line}: {p.message}" for p in problems]
    assert len(got) == len(expected), got
    for line, want in zip(got, expected, strict=True):
        assert line.startswith(want), (line, want)
    # build says the same, in the same order
    build = cli_run(project, "build").stderr.splitlines()
    assert [b for b in build if b.startswith("content/doc.yaml:")] == [
        f"content/doc.yaml:{p.line}: {p.message}" for p in problems]
