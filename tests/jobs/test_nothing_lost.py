"""Nothing lost: a failed, interrupted or concurrent build never leaves a broken or partial
output, nor a temporary file; the previous good PDF stays byte for byte."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from briefing import api, output
from briefing.errors import BriefingError
from briefing.jobs import document as jobs_document
from tests.conftest import MINIMAL, cpu_seconds, run_briefing, write_project
from tests.pdf_samples import numbered_pdf, qpdf_check

PREVIOUS = numbered_pdf(1)  # "the previous good PDF": any bytes do, these are a real PDF


def leftovers(folder: Path) -> list[str]:
    """Temporary or partial files: everything but the finished outputs."""
    return sorted(p.name for p in folder.iterdir()
                  if p.name.startswith(".") or p.suffix not in (".pdf", ".html"))


def briefing_exe() -> str:
    return shutil.which("briefing") or str(Path(sys.executable).parent / "briefing")


# --- write_atomic itself -------------------------------------------------------------------

@pytest.mark.parametrize("step", ["write", "fsync", "replace"])
@pytest.mark.parametrize("error", [OSError, KeyboardInterrupt])
def test_interrupted_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              step: str, error: type[BaseException]) -> None:
    target = tmp_path / "out" / "doc.pdf"
    target.parent.mkdir()
    target.write_bytes(PREVIOUS)

    def fail(*args: object, **kwargs: object) -> None:
        raise error("interrupted")

    if step == "write":
        real_fdopen = os.fdopen

        class Failing:
            def __init__(self, handle: object):
                self.handle = handle

            def __enter__(self) -> Failing:
                return self

            def __exit__(self, *exc: object) -> None:
                self.handle.close()  # type: ignore[attr-defined]

            def write(self, data: bytes) -> None:
                self.handle.write(data[: len(data) // 2])  # type: ignore[attr-defined]
                fail()

        monkeypatch.setattr(os, "fdopen", lambda *a, **k: Failing(real_fdopen(*a, **k)))
    else:
        monkeypatch.setattr(os, step, fail)
    # an OSError comes back as the one error type, naming the file
    with pytest.raises(BriefingError if error is OSError else error):
        output.write_atomic(target, b"%PDF-new and different" * 1000)
    monkeypatch.undo()
    assert target.read_bytes() == PREVIOUS
    assert leftovers(target.parent) == []


def test_write_replaces_completely(tmp_path: Path) -> None:
    target = tmp_path / "doc.pdf"
    target.write_bytes(PREVIOUS)
    output.write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert leftovers(tmp_path) == []


# --- builds that fail part-way -------------------------------------------------------------

SECOND = MINIMAL.replace("A small briefing", "The second briefing")


@pytest.fixture(scope="module")
def two_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with two documents, built once."""
    root = write_project(tmp_path_factory.mktemp("two") / "project",
                         {"content/first.yaml": MINIMAL, "content/second.yaml": SECOND})
    result = api.build(project=root, jobs=1)
    assert result.ok, result.failures
    return root


def test_exception_part_way_keeps_previous_outputs(
        two_built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = two_built / "out"
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("assembly failed half-way")

    monkeypatch.setattr(jobs_document, "assemble", broken)
    result = api.build(project=two_built, jobs=1)
    assert not result.ok and len(result.failures) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert leftovers(out) == []


def test_content_error_in_the_second_document(two_built: Path) -> None:
    out = two_built / "out"
    second = two_built / "content" / "second.yaml"
    good_second = (out / "second.pdf").read_bytes()
    original = second.read_text(encoding="utf-8")
    second.write_text(original.replace("footnotes:", "footnotes: [broken"), encoding="utf-8")
    try:
        result = run_briefing("build", "-j", "1", cwd=two_built)
    finally:
        second.write_text(original, encoding="utf-8")
    assert result.returncode == 1
    assert "content/second.yaml:" in result.stderr
    assert (out / "second.pdf").read_bytes() == good_second
    assert (out / "first.pdf").exists()
    assert leftovers(out) == []


# --- interrupted builds --------------------------------------------------------------------

#: runs the CLI with fsync slowed down, so the build sits in the middle of writing its PDF
#: (a temporary file exists) until it is signalled
SLOW_WRITER = textwrap.dedent("""
    import os, sys, time
    real = os.fsync
    def slow(fd):
        real(fd)
        time.sleep(60)
    os.fsync = slow
    from briefing.cli import main
    sys.argv = ["briefing", "build", "-j", "1"]
    main()
""")


@pytest.fixture
def slow_project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "project", {"content/doc.yaml": MINIMAL})
    (root / "out").mkdir()
    (root / "out" / "doc.pdf").write_bytes(PREVIOUS)
    return root


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 128 + signal.SIGTERM),
                                                (signal.SIGINT, 1)])
def test_signal_while_writing_removes_the_temporary_file(
        slow_project: Path, signum: int, status: int) -> None:
    out = slow_project / "out"
    child = subprocess.Popen([sys.executable, "-c", SLOW_WRITER], cwd=slow_project,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not list(out.glob(".*.tmp")):
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the build never started writing"
            time.sleep(0.05)
        child.send_signal(signum)
        _, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == status, stderr
    assert (out / "doc.pdf").read_bytes() == PREVIOUS
    assert leftovers(out) == []


def test_sigterm_during_a_real_build(tmp_path: Path) -> None:
    """No patching: the console script on a document that takes some 10 s of CPU, stopped
    once it has used half a second (past its imports, not after a wall-clock pause, which a
    faster machine would finish the build within); whatever it was doing, nothing is left
    behind and it says it failed."""
    questions = "\n".join(
        f"      - question: Question {n}?\n        answer: {'An answer of some length. ' * 30}"
        for n in range(400))
    root = write_project(tmp_path / "project", {"content/doc.yaml": (
        "title: Long\nsections:\n  - title: All\n    questions:\n" + questions + "\n")})
    (root / "out").mkdir()
    (root / "out" / "doc.pdf").write_bytes(PREVIOUS)
    child = subprocess.Popen([briefing_exe(), "build", "-j", "1"], cwd=root,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while cpu_seconds(child.pid) < 0.5:
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    child.terminate()
    try:
        child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 128 + signal.SIGTERM
    assert (root / "out" / "doc.pdf").read_bytes() == PREVIOUS
    assert leftovers(root / "out") == []


# --- builds at the same time ---------------------------------------------------------------

def test_two_builds_at_once(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", {"content/doc.yaml": MINIMAL})
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    children = [subprocess.Popen([briefing_exe(), "build", "-j", "1"], cwd=root, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
    for child in children:
        _, stderr = child.communicate(timeout=180)
        assert child.returncode == 0, stderr
    out = root / "out"
    assert leftovers(out) == []
    qpdf_check(out / "doc.pdf")
    assert sorted(p.name for p in out.iterdir()) == ["doc.html", "doc.pdf"]
