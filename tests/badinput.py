"""Helpers for the bad-input tests: run `check` and `build` in-process, assert what they say.

The CLI runs in-process (click's CliRunner) so dozens of cases stay fast; a few tests elsewhere
run the installed console script end to end.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from click.testing import CliRunner, Result

from briefing.cli import cli

from conftest import write_project

#: raw control characters must never reach the terminal (newline ends each message)
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")

#: a valid document; tests change one thing in it, so its line numbers are known
GOOD = """\
title: A small briefing
sections:
  - title: Questions
    questions:
      - question: What is this?
        answer: A document made in a test.
"""


def cli_run(project: Path, *args: str) -> Result:
    """The `briefing` command run in `project`, as if typed there."""
    with contextlib.chdir(project):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def project_with(root: Path, files: dict[str, str | bytes]) -> Path:
    return write_project(root, {f"content/{name}": data for name, data in files.items()})


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def assert_rejected(project: Path, name: str, line: int | None, fragment: str) -> str:
    """`check` and `build` of content/NAME both exit 1 with `content/NAME:LINE: ...fragment...`;
    the build leaves nothing in out/; no raw control character reaches stderr."""
    where = f"content/{name}:{line}: " if line else f"content/{name}: "
    shown = _escaped(where)
    check = cli_run(project, "check", f"content/{name}")
    assert check.exit_code == 1, check.output
    assert any(m.startswith(shown) and fragment in m for m in check.stderr.splitlines()), (
        f"no `{shown}...{fragment}` in:\n{check.stderr}"
    )
    assert not RAW_CONTROL.search(check.stderr), repr(check.stderr)
    build = cli_run(project, "build", f"content/{name}")
    assert build.exit_code == 1, build.output
    assert any(m.startswith(shown) and fragment in m for m in build.stderr.splitlines()), (
        build.stderr
    )
    assert not RAW_CONTROL.search(build.stderr), repr(build.stderr)
    assert files_in(project / "out") == [], "a failed build left files in out/"
    return check.stderr


def _escaped(text: str) -> str:
    from briefing.errors import printable

    return printable(text)
