"""Encodings and invisible characters: UTF-8 only, controls refused, bidi overrides reported.

Messages quote content, so they escape what they quote: no raw control byte or bidi override
reaches the terminal (`assert_rejected` checks stderr for them).
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from badinput import GOOD, RAW_CONTROL, assert_rejected, cli_run, project_with

from briefing import api
from briefing.errors import printable
from briefing.source.prepare import prepare

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "txt.exe" can print as "exe.txt"


def with_line(line: int, text: str) -> str:
    """GOOD with its line `line` (1-based) replaced."""
    lines = GOOD.splitlines(keepends=True)
    lines[line - 1] = text
    return "".join(lines)


ENCODING_CASES: dict[str, tuple[bytes, int, str]] = {
    "latin-1": (GOOD.replace("made in", "made in café").encode("latin-1"), 6, "invalid UTF-8"),
    "stray-byte": (GOOD.encode().replace(b"Questions", b"Quest\xffions"), 3, "invalid UTF-8"),
    "utf16-le-bom": (codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le"), 1, "UTF-16"),
    "utf16-be-bom": (codecs.BOM_UTF16_BE + GOOD.encode("utf-16-be"), 1, "UTF-16"),
    "utf16-no-bom": (GOOD.encode("utf-16-le"), 1, "UTF-16"),
    "utf32": (GOOD.encode("utf-32"), 1, "UTF-32"),
    "nul": (with_line(4, "    questions:\x00\n").encode(), 4, "control character \\x00"),
    "escape-sequence": (with_line(3, "  - title: \x1b[2J\x1b[31mred\n").encode(), 3,
                        "control character \\x1b"),
    "bell-in-key": (with_line(1, "ti\x07tle: x\n").encode(), 1, "control character \\x07"),
    "del": (with_line(5, "      - question: What\x7f?\n").encode(), 5, "control character \\x7f"),
    "c1-next-line": (with_line(5, "      - question: What\u0085?\n").encode(), 5,
                     "control character \\x85"),
    "line-separator": (with_line(5, "      - question: What\u2028?\n").encode(), 5,
                       "invisible line separator U+2028"),
    "non-character": (with_line(5, "      - question: What\uffff?\n").encode(), 5,
                      "non-character U+FFFF"),
    "escaped-control": (with_line(5, '      - question: "What\\x1b[31m?"\n').encode(), 5,
                        "control character \\x1b"),
    "escaped-nul": (with_line(5, '      - question: "What\\0?"\n').encode(), 5,
                    "control character \\x00"),
    "crlf": (GOOD.replace("answer:", "answr:").replace("\n", "\r\n").encode(), 6,
             "unknown key `answr`"),
    "cr-only": (GOOD.replace("answer:", "answr:").replace("\n", "\r").encode(), 6,
                "unknown key `answr`"),
    "bidi-in-unknown-key": (with_line(1, f'"ti{RLO}tle": x\n').encode(), 1,
                            "unknown key `ti\\u202etle`"),
}


@pytest.mark.parametrize("case", sorted(ENCODING_CASES))
def test_bad_encoding_is_rejected_at_its_line(case: str, tmp_path: Path) -> None:
    data, line, fragment = ENCODING_CASES[case]
    project = project_with(tmp_path, {f"{case}.yaml": data})
    assert_rejected(project, f"{case}.yaml", line, fragment)


def test_every_line_with_a_control_character_is_reported(tmp_path: Path) -> None:
    text = with_line(3, "  - title: a\x00b\x01c\n").replace("What", "Wh\x1bat")
    project = project_with(tmp_path, {"ctl.yaml": text.encode()})
    problems = api.check(project=project).problems
    assert [(p.line, p.message.split(" is ")[0]) for p in problems] == [
        (3, "control character \\x00 (column 13)"),
        (5, "control character \\x1b (column 21)"),
    ]


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    project = project_with(tmp_path, {"bom.yaml": codecs.BOM_UTF8 + GOOD.encode()})
    composed = prepare(project / "content" / "bom.yaml", project)
    assert composed.document.title == "A small briefing"
    assert composed.warnings == ()


def test_bidi_overrides_are_warnings_with_their_line(tmp_path: Path) -> None:
    text = with_line(5, f"      - question: Is invoice{RLO}fdp.exe safe?\n")
    text += 'footnotes:\n  n: "quoted \\u2066isolate\\u2069"\n'
    project = project_with(tmp_path, {"bidi.yaml": text.encode()})
    problems = api.check(project=project).problems
    assert [(p.line, p.severity, p.message[:35]) for p in problems] == [
        (5, "warning", "bidirectional control character U+2"),
        (8, "warning", "bidirectional control character U+2"),
        (8, "warning", "bidirectional control character U+2"),
        (8, "warning", "footnote [^n] is defined but never "),
    ]
    assert "U+202E" in problems[0].message
    assert {"U+2066", "U+2069"} == {p.message.split()[3] for p in problems[1:3]}
    result = cli_run(project, "check")
    assert result.exit_code == 0
    assert "content/bidi.yaml:5: warning: bidirectional control character U+202E" in (
        result.stderr)
    assert not RAW_CONTROL.search(result.stderr)
    assert cli_run(project, "check", "--strict").exit_code == 1


def test_right_to_left_text_is_not_reported(tmp_path: Path) -> None:
    text = GOOD.replace("What is this?", "ما هذا؟ מה זה?").replace(
        "A document made in a test.",
        "وثيقة صُنعت في اختبار. מסמך שנעשה בבדיקה\u200f, mixed with English\u200e.")
    text = text.replace("title: A small briefing", "title: إحاطة قصيرة\nlang: ar")
    project = project_with(tmp_path, {"rtl.yaml": text.encode()})
    result = api.check(project=project)
    assert result.problems == ()
    composed = prepare(project / "content" / "rtl.yaml", project)
    assert composed.document.title == "إحاطة قصيرة"
    html = next(iter(composed.answers.values())).html(lambda a: a)
    assert "وثيقة صُنعت في اختبار. מסמך שנעשה בבדיקה\u200f, mixed" in html


def test_printable_escapes_what_moves_the_cursor_or_reorders_text() -> None:
    assert printable("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert printable(f"x{RLO}y\u2066z\u2028") == "x\\u202ey\\u2066z\\u2028"
    assert printable("\x9b\x00\x7f") == "\\x9b\\x00\\x7f"
    # a tab is invisible in a quoted key: escaped, so the message names something
    assert printable("tab\tescaped, عربي, ខ្មែរ, ✓") == "tab\\x09escaped, عربي, ខ្មែរ, ✓"
