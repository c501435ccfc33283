"""Broken YAML and broken content: each kind exits 1 with the file and the line of the cause.

Every case goes through `briefing check` and `briefing build` (in-process), which must agree on
`path:line: message`, and the failed build must leave nothing in out/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from badinput import GOOD, assert_rejected, project_with

from briefing import api
from briefing.source.load import MAX_DEPTH
from briefing.source.prepare import prepare

Q = "    questions:\n      - question: Q\n        answer: A\n"

CASES: dict[str, tuple[str, int | None, str]] = {
    # -- YAML syntax: the line of the cause, not the end of the file
    "tab-indent": ("title: T\nsections:\n\t- title: S\n" + Q, 3, "tabs"),
    "tab-deeper": (
        "title: T\nsections:\n  - title: S\n    questions:\n\t  - question: Q\n", 5, "tabs"),
    "unclosed-double-quote": (
        'title: "Never closed\nsections:\n  - title: S\n' + Q, 1, "never closed"),
    "unclosed-single-quote": (
        "title: T\nsections:\n  - title: 'Never closed\n" + Q + "\n\n\n", 3, "never closed"),
    "runaway-quote": (
        'title: "Hello\nsubtitle: "World"\nsections:\n  - title: S\n' + Q, 2,
        "quoted text opened on line 1"),
    "bad-indent-key": ("title: T\nsections:\n  - title: S\n     questions: []\n", 4,
                       "indentation"),
    "bad-indent-answer": (
        "title: T\nsections:\n  - title: S\n    questions:\n      - question: Q\n"
        "         answer: A\n", 6, "indentation"),
    "bad-indent-dedent": ("title: T\n  subtitle: x\nsections: []\n", 2, "indentation"),
    "unclosed-bracket": ("title: T\nsections: [\n  {title: S}\nfootnotes: {}\n", 4,
                         "flow sequence that starts on line 2"),
    "second-document": (GOOD + "---\ntitle: Again\n", 7, "second document"),
    "undefined-alias": ("title: *nowhere\nsections: []\n", 1, "undefined alias"),
    "colon-in-text": ("title: Note: this breaks\nsections: []\n", 1, "quotes"),
    # -- keys
    "duplicate-key": ("title: T\nsubtitle: S\ntitle: Again\n" + GOOD[GOOD.index("sections"):], 3,
                      "duplicate key `title` (first given on line 1)"),
    "duplicate-nested-key": (GOOD + "        answer: Another\n", 7,
                             "duplicate key `answer` (first given on line 6)"),
    "python-tag": ("title: !!python/object/apply:os.system [ls]\nsections: []\n", 1,
                   "YAML tag `!!python/object/apply:os.system` is not supported"),
    "binary-tag": ("title: !!binary aGVsbG8=\n" + GOOD[GOOD.index("sections"):], 1,
                   "`!!binary` is not supported"),
    "custom-tag": ("title: !shout hello\n" + GOOD[GOOD.index("sections"):], 1,
                   "`!shout` is not supported"),
    "merge-key": ("title: T\nsections:\n  - &s {title: S, questions: [{question: Q, answer: A}]}\n"
                  "  - <<: *s\n", 4, "merge keys (`<<`) are not supported"),
    # -- dates
    "impossible-date": (GOOD.replace("sections:", "date: 2025-02-30\nsections:"), 2,
                        "`date` must be a real date as YYYY-MM-DD, not `2025-02-30`"),
    "compact-date": (GOOD.replace("sections:", "date: 20250203\nsections:"), 2,
                     "YYYY-MM-DD"),
    # -- empty documents
    "empty": ("", 1, "file is empty"),
    "blank-lines": ("\n   \n\n", 1, "file is empty"),
    "comments-only": ("# a title will come\n# and questions\n", 1, "file has only comments"),
    "document-marker-only": ("---\n", 1, "file is empty"),
    "root-list": ("- title: T\n", 1, "a document must be a mapping"),
    "root-text": ("Just some text\n", 1, "a document must be a mapping"),
    "no-sections": ("title: T\nsections: []\n", 2, "`sections` is empty"),
    "null-sections": ("title: T\nsections:\n", 2, "`sections` is empty"),
    "no-questions": ("title: T\nsections:\n  - title: S\n    questions: []\n", 4,
                     "section 1 has no questions"),
    "null-questions": ("title: T\nsections:\n  - title: S\n    questions:\n", 4,
                       "section 1 has no questions"),
    # -- schema
    "unknown-top-key": (GOOD.replace("sections:", "subtitel: x\nsections:"), 2,
                        "unknown key `subtitel` in the document; did you mean `subtitle`?"),
    "unknown-question-key": (GOOD.replace("answer:", "anwser:"), 6,
                             "unknown key `anwser` in a question; did you mean `answer`?"),
    "title-is-list": (GOOD.replace("title: A small briefing", "title: [a, b]"), 1,
                      "`title` must be text, not a list"),
    "subtitle-is-mapping": (GOOD.replace("sections:", "subtitle: {a: b}\nsections:"), 2,
                            "`subtitle` must be text, not a mapping"),
    "sections-is-text": ("title: T\nsections: all of them\n", 2, "`sections` must be a list"),
    "question-is-text": ("title: T\nsections:\n  - title: S\n    questions:\n      - Why?\n",
                         5, "each question must be a mapping"),
    "answer-is-list": (GOOD.replace("answer: A document made in a test.", "answer: [a]"), 6,
                       "`answer` must be text, not a list"),
    "missing-title": (GOOD.replace("title: A small briefing\n", "subtitle: S\n"), 1,
                      "the document is missing the required `title`"),
    "missing-answer": (GOOD.replace("        answer: A document made in a test.\n", ""), 5,
                       "a question is missing the required `answer`"),
    "empty-answer": (GOOD.replace("answer: A document made in a test.", "answer: ''"), 6,
                     "`answer` must not be empty"),
    "duplicate-id": (
        "title: T\nsections:\n  - title: S\n    questions:\n"
        "      - {question: A, answer: a, id: same}\n      - {question: B, answer: b, id: same}\n",
        6, "duplicate question id `same` (first used on line 5)"),
    "bad-id": (GOOD.replace("answer:", "id: Not A Slug\n        answer:"), 6,
               "`id` `Not A Slug` cannot contain a space"),
    "undefined-footnote": (GOOD.replace("made in a test.", "made in a test.[^gone]"), 6,
                           "footnote [^gone] is never defined"),
    "cover-outside": (GOOD.replace("sections:", "cover: ../../etc/passwd\nsections:"), 2,
                      "must be a file inside the project"),
    "cover-missing": (GOOD.replace("sections:", "cover: covers/none.pdf\nsections:"), 2,
                      "does not exist"),
    # -- Markdown nested deeper than supported (markdown-it would drop the text)
    "deep-blockquote": (GOOD.replace(
        "answer: A document made in a test.",
        "answer: |\n          Fine.\n\n          " + ">" * 40 + " lost?"),
        9, "nested more than 10 levels deep"),
    "deep-list": (GOOD.replace("answer: A document made in a test.", "answer: |\n" + "".join(
        "          " + "  " * i + f"- level {i + 1}\n" for i in range(14))), 17,
        "nested more than 10 levels deep"),
    # -- YAML that would take forever or recurse
    "deep-flow": ("title: " + "[" * 1000 + "]" * 1000 + "\nsections: []\n", 1,
                  f"nested more than {MAX_DEPTH} levels deep"),
    "self-alias": ("title: T\nsections: &s\n  - title: S\n    questions: *s\n", 4,
                   "an alias refers to a value that contains it"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_content_is_rejected_at_its_line(case: str, tmp_path: Path) -> None:
    text, line, fragment = CASES[case]
    project = project_with(tmp_path, {f"{case}.yaml": text.encode()})
    assert_rejected(project, f"{case}.yaml", line, fragment)


def test_all_problems_of_a_file_at_once(tmp_path: Path) -> None:
    text = (
        "title: [not, text]\n"                   # 1
        "date: 2025-13-01\n"                     # 2
        "lang: 'english please'\n"               # 3
        "colour: blue\n"                         # 4
        "sections:\n"                            # 5
        "  - title: First\n"                     # 6
        "    questions:\n"                       # 7
        "      - question: Q1\n"                 # 8
        "      - question: Q2\n"                 # 9
        "        answer: A2[^missing]\n"         # 10
        "        answr: typo\n"                  # 11
        "  - title: Second\n"                    # 12
        "    questions: []\n"                    # 13
    )
    project = project_with(tmp_path, {"many.yaml": text})
    result = api.check(project=project)
    lines = [(p.line, p.severity) for p in result.problems]
    assert lines == sorted(lines, key=lambda x: x[0] or 0), "problems are in file order"
    # 10: the undefined note is reported with the structural errors, not after them
    assert {p.line for p in result.problems} == {1, 2, 3, 4, 8, 10, 11, 13}
    messages = "\n".join(str(p) for p in result.problems)
    assert "did you mean `answer`?" in messages
    assert "did you mean `colour`" not in messages


def test_duplicate_keys_everywhere_are_all_reported(tmp_path: Path) -> None:
    text = GOOD + "        answer: again\n" + "title: again\n"
    project = project_with(tmp_path, {"dupes.yaml": text})
    problems = api.check(project=project).problems
    assert [(p.line, p.message.split(" (")[0]) for p in problems] == [
        (7, "duplicate key `answer`"), (8, "duplicate key `title`")]


ANCHORS = """\
title: &name Shared words
subtitle: *name
sections:
  - title: First
    questions: &questions
      - question: Where?
        answer: &answer |
          The same answer, typed once.
      - question: And here?
        answer: *answer
  - title: Second
    questions: *questions
"""


def test_ordinary_anchor_reuse_works(tmp_path: Path) -> None:
    project = project_with(tmp_path, {"anchors.yaml": ANCHORS})
    composed = prepare(project / "content" / "anchors.yaml", project)
    document = composed.document
    assert document.subtitle == "Shared words"
    assert [q.id for q in document.questions] == ["where", "and-here", "where-2", "and-here-2"]
    html = [prose.html(lambda a: f"#{a}") for prose in composed.answers.values()]
    assert html == ["<p>The same answer, typed once.</p>\n"] * 4


def billion_laughs(levels: int = 10) -> str:
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\ntitle: *lol9\nsections: []\n"


# "Quickly" is held by the loader's node budget, not by a clock: a timeout only catches a hang,
# so a loaded CI machine cannot make these tests flaky.
@pytest.mark.timeout(30)
def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    project = project_with(tmp_path, {"bomb.yaml": billion_laughs()})
    problems = api.check(project=project).problems
    assert len(problems) == 1
    assert problems[0].line is not None
    assert "expands to more than" in problems[0].message


@pytest.mark.timeout(60)
def test_alias_bomb_via_cli(tmp_path: Path) -> None:
    project = project_with(tmp_path, {"bomb.yaml": billion_laughs()})
    assert_rejected(project, "bomb.yaml", 6, "aliases nested too deeply")


@pytest.mark.timeout(30)
def test_deep_yaml_is_refused_quickly(tmp_path: Path) -> None:
    """PyYAML's scanner is quadratic in flow depth (10 000 brackets: minutes); refused early."""
    project = project_with(tmp_path, {"deep.yaml": "title: " + "[" * 10_000 + "\n"})
    problems = api.check(project=project).problems
    assert [p.line for p in problems] == [1]
