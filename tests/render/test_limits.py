"""Resource limits: pathological input ends in a clear error, quickly, never a hang.

Measured on WeasyPrint 70 before these limits (see limits.py): a 2,000-letter word with
hyphenation took 26 s to lay out, 5,000 letters more than 100 s, 1,100 letters in a table cell
64 s; `font-size: 1e9px` in a project stylesheet crashed with ZeroDivisionError.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from briefing import api
from briefing.errors import BriefingError
from briefing.jobs.pipeline import build_document
from briefing.render import timelimit
from briefing.render.pdf import render_pdf
from briefing.render.timelimit import TimeLimitExceeded, time_limit
from briefing.source.limits import MAX_SOURCE_BYTES, MAX_WORD_LETTERS, content_problems
from briefing.source.prepare import prepare
from tests.conftest import run_briefing, write_project


def document(answer: str, extra: dict[str, str] | None = None, *, tmp_path: Path) -> Path:
    project = write_project(tmp_path / "project", {
        "content/doc.yaml": "title: Limits\nsections:\n  - title: S\n    questions:\n"
                            "      - question: Q?\n        answer: |\n"
                            "          First line.\n"
                            f"          {answer}\n",
        **(extra or {}),
    })
    return project


def build(project: Path) -> api.Output:
    return build_document(project / "content" / "doc.yaml", project=project,
                              out_dir=project / "out")


# --- content checks, before any layout -----------------------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("word", ["x" * 200_000, "antidisestablishmentarianism" * 72])
def test_a_very_long_word_is_an_error_at_its_line(tmp_path: Path, word: str) -> None:
    project = document(f"Before {word} after.", tmp_path=tmp_path)
    started = time.monotonic()
    with pytest.raises(BriefingError) as caught:
        build(project)
    assert time.monotonic() - started < 10
    [problem] = caught.value.problems
    assert problem.line == 8
    assert f"a word of {len(word)} letters" in problem.message
    assert not (project / "out").exists()


def test_the_word_limit_is_exact_and_spares_unspaced_scripts(tmp_path: Path) -> None:
    """Khmer, Thai and Chinese are written without spaces between words: long runs of them
    are normal text, broken between words by the renderer, and never counted."""
    project = document("y" * MAX_WORD_LETTERS + " " + "é" * (MAX_WORD_LETTERS + 1) + " "
                       + "ខ្មែរ" * 400 + " " + "ภาษาไทย" * 300 + " " + "中文" * 1000,
                       tmp_path=tmp_path)
    with pytest.raises(BriefingError) as refused:  # prepare checks the limits before layout
        prepare(project / "content" / "doc.yaml", project)
    problems = refused.value.problems
    assert [p.line for p in problems] == [8]
    assert f"a word of {MAX_WORD_LETTERS + 1} letters" in problems[0].message


def test_a_huge_document_is_refused_before_layout(tmp_path: Path) -> None:
    project = document("Small.", tmp_path=tmp_path)
    composed = prepare(project / "content" / "doc.yaml", project)
    huge = dataclasses.replace(composed.document, source=b"#" * (MAX_SOURCE_BYTES + 1))
    [problem] = content_problems(huge)
    assert "at most 8 MB" in problem.message


# --- extreme sizes in a project's stylesheet -----------------------------------------------

@pytest.mark.timeout(120)
def test_impossible_font_size_is_a_clear_error(tmp_path: Path) -> None:
    project = document("Text.", {"styles/custom.css": ".answer { font-size: 1e9px; }\n"},
                       tmp_path=tmp_path)
    started = time.monotonic()
    result = run_briefing("build", "-j", "1", cwd=project)
    assert time.monotonic() - started < 60
    assert result.returncode == 1
    assert "content/doc.yaml: document: could not be laid out" in result.stderr
    assert "styles/" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert not list((project / "out").glob("*.pdf"))


@pytest.mark.timeout(120)
def test_huge_widths_and_heights_still_build(tmp_path: Path) -> None:
    """Sizes far past the page are clipped, not a hang: the build finishes in time."""
    css = (".answer { width: 1e12px; padding-top: 1e12px; line-height: 1e9; }\n"
           "h1 { height: 1e12px; }\n")
    project = document("Text.", {"styles/custom.css": css}, tmp_path=tmp_path)
    started = time.monotonic()
    output = build(project)
    assert time.monotonic() - started < 60
    assert output.pages >= 1


# --- the wall-clock limit on a WeasyPrint run ----------------------------------------------

def slow_layout(monkeypatch: pytest.MonkeyPatch, seconds_per_block: float) -> None:
    """An injected slow stage: every block WeasyPrint places waits first, so a document of
    many paragraphs is slow on every machine, loaded or not (a sleep is not faster on a
    faster CPU), and the limit has to stop the layout from inside it."""
    from weasyprint.layout import block

    original = block.block_level_layout

    def slow(*args: object, **kwargs: object) -> object:
        time.sleep(seconds_per_block)
        return original(*args, **kwargs)

    monkeypatch.setattr(block, "block_level_layout", slow)


MANY_PARAGRAPHS = "".join(f"<p>paragraph {i}</p>" for i in range(3000))  # 3000 x 10 ms: 30 s


@pytest.mark.timeout(120)
def test_a_slow_layout_is_stopped_at_the_limit(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    project = write_project(tmp_path / "project", {"content/doc.yaml": "title: x\n"})

    def part(body: str) -> None:
        render_pdf(f"<html><body>{body}</body></html>", name="body",
                   base=project / "content", project=project, shown="content/doc.yaml")

    part("<p>warm up the fonts</p>")
    slow_layout(monkeypatch, 0.01)
    monkeypatch.setenv(timelimit.TIME_LIMIT_ENV, "2")
    started = time.monotonic()
    with pytest.raises(BriefingError) as caught:
        part(MANY_PARAGRAPHS)
    elapsed = time.monotonic() - started
    assert elapsed < 20, elapsed  # 30 s unstopped; the margin is for a loaded machine
    assert "content/doc.yaml: body: laying out took longer than 2 s" in str(caught.value)
    assert timelimit.TIME_LIMIT_ENV in str(caught.value)
    # the deadline is gone: a quick part afterwards is unaffected
    monkeypatch.setenv(timelimit.TIME_LIMIT_ENV, "0")
    part("<p>fine</p>")


@pytest.mark.timeout(120)
def test_the_limit_stops_a_layout_off_the_main_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No signal reaches a worker thread (a Dask worker, a web server): the cooperative check
    inside the layout stops it all the same."""
    project = write_project(tmp_path / "project", {"content/doc.yaml": "title: x\n"})
    slow_layout(monkeypatch, 0.01)
    monkeypatch.setenv(timelimit.TIME_LIMIT_ENV, "1")
    caught: list[BaseException] = []

    def work() -> None:
        try:
            render_pdf(f"<html><body>{MANY_PARAGRAPHS}</body></html>", name="body",
                       base=project / "content", project=project, shown="content/doc.yaml")
        except BaseException as error:  # handed to the test thread
            caught.append(error)

    thread = threading.Thread(target=work)
    started = time.monotonic()
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert time.monotonic() - started < 20
    [error] = caught
    assert isinstance(error, BriefingError)
    assert "laying out took longer than 1 s" in str(error)


def test_the_default_limit_grows_with_the_part(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(timelimit.TIME_LIMIT_ENV, raising=False)
    small, large = timelimit.time_limit_for(10_000), timelimit.time_limit_for(1_000_000)
    assert small is not None and large is not None
    assert 60 <= small < 70 and large > 500
    monkeypatch.setenv(timelimit.TIME_LIMIT_ENV, "0")
    assert timelimit.time_limit_for(10_000) is None
    monkeypatch.setenv(timelimit.TIME_LIMIT_ENV, "nonsense")
    assert timelimit.time_limit_for(10_000) == small


@pytest.fixture
def own_alarm() -> Iterator[None]:
    """Tests that replace SIGALRM's handler give back whatever was there (pytest-timeout's)."""
    handler = signal.getsignal(signal.SIGALRM)
    delay, interval = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()
    yield
    signal.signal(signal.SIGALRM, handler)
    if delay:
        signal.setitimer(signal.ITIMER_REAL, max(delay - (time.monotonic() - started), 0.01),
                         interval)
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


def spin(seconds: float) -> None:
    """Busy Python code that swallows every Exception, as library code may."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with contextlib.suppress(Exception):
            sum(range(1000))


def test_time_limit_cannot_be_swallowed(own_alarm: None) -> None:
    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded), time_limit(0.2):
        spin(10)
    assert time.monotonic() - started < 2


def test_time_limit_keeps_an_outer_timer(own_alarm: None) -> None:
    fired: list[int] = []
    signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    signal.setitimer(signal.ITIMER_REAL, 0.6)
    with time_limit(5):
        spin(0.1)
    remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    assert 0.2 < remaining <= 0.5, remaining
    time.sleep(0.7)
    assert fired == [signal.SIGALRM]


def test_an_earlier_outer_timer_still_fires_inside(own_alarm: None) -> None:
    class Outer(Exception):
        pass

    def outer(signum: int, frame: object) -> None:
        raise Outer

    signal.signal(signal.SIGALRM, outer)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    with pytest.raises(Outer), time_limit(5):
        time.sleep(3)


def test_the_limit_holds_off_the_main_thread() -> None:
    """Signals reach only the main thread; the deadline is per thread and checked in the work."""
    caught: list[BaseException] = []

    def work() -> None:
        try:
            with time_limit(0.1):
                end = time.monotonic() + 10
                while time.monotonic() < end:
                    with contextlib.suppress(Exception):
                        timelimit.check_deadline()
        except BaseException as error:  # handed to the test thread
            caught.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(5)
    assert not thread.is_alive()
    assert [type(e) for e in caught] == [TimeLimitExceeded]
    timelimit.check_deadline()  # this thread has no deadline
