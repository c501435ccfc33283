"""Bad or doubtful content as small files, each with the messages `briefing check` must print.

Each `tests/fixtures/content/NAME.yaml` has a sibling `NAME.expected`: the exact problem lines
of `briefing check content/NAME.yaml` (the summary line left out). Exit code 1 when one of them
is an error, 0 when all are warnings; an error case is also built, which must print the same
lines and leave nothing in out/. Add a case by adding the two files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from badinput import RAW_CONTROL, cli_run, files_in

from conftest import TESTS

FIXTURES = TESTS / "fixtures" / "content"
CASES = sorted(FIXTURES.glob("*.yaml"))


def _expected(case: Path) -> list[str]:
    lines = case.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_check_prints_exactly_the_expected_messages(case: Path, tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    shutil.copyfile(case, tmp_path / "content" / case.name)
    expected = _expected(case)
    errors = [line for line in expected if ": warning: " not in line]

    check = cli_run(tmp_path, "check", f"content/{case.name}")
    assert check.stderr.splitlines()[:-1] == expected
    assert check.exit_code == (1 if errors else 0), check.output
    assert not RAW_CONTROL.search(check.stderr), repr(check.stderr)

    if errors:
        build = cli_run(tmp_path, "build", f"content/{case.name}")
        assert build.exit_code == 1, build.output
        assert [line for line in build.stderr.splitlines() if line in expected] == expected
        assert files_in(tmp_path / "out") == []
