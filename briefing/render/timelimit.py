"""A wall-clock limit on each layout, so a build ends with an error, never a hang.

The limit is cooperative: `time_limit` sets a deadline for the current thread, and the layout
checks it (`check_deadline`) at the points WeasyPrint passes through all the time (every block
placed against the page bottom, every line broken, every preferred width measured: see
`install_layout_checks`). So it stops a layout on any thread (a Dask worker's, a web server's)
and on any machine, and no signal can land in a clean-up hook that discards it.

On the main thread a SIGALRM is armed as well, a moment after the deadline, for code that has
no check (pypdf reading a supplied PDF): it only fires if the cooperative check has not.

The limit grows with the size of the part's HTML, so large legitimate documents still build.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from types import FrameType
from typing import Any, TypeVar

#: per WeasyPrint run: a fixed allowance plus an amount per KB of the part's HTML
TIME_BASE_SECONDS = 60.0
TIME_SECONDS_PER_KB = 0.5
#: set to a number of seconds to replace the computed limit (0 turns it off)
TIME_LIMIT_ENV = "BRIEFING_TIME_LIMIT"
#: how long after the deadline the signal backstop fires on the main thread
BACKSTOP_SECONDS = 1.0


class TimeLimitExceeded(BaseException):
    """Raised when a run is out of time. A BaseException, like KeyboardInterrupt, so that
    library code which catches Exception cannot swallow it."""

    def __init__(self, seconds: float):
        super().__init__(seconds)
        self.seconds = seconds


class _Deadline(threading.local):
    at: float | None = None
    seconds: float = 0.0


_DEADLINE = _Deadline()


def time_limit_for(html_size: int) -> float | None:
    """Seconds one WeasyPrint run of `html_size` characters may take; None: no limit."""
    configured = os.environ.get(TIME_LIMIT_ENV, "").strip()
    if configured:
        try:
            seconds = float(configured)
        except ValueError:
            seconds = -1.0
        if seconds == seconds and seconds >= 0:  # not NaN
            return seconds or None
    return TIME_BASE_SECONDS + TIME_SECONDS_PER_KB * html_size / 1024


def check_deadline() -> None:
    """Raise TimeLimitExceeded if this thread's deadline has passed (cheap: call it often)."""
    at = _DEADLINE.at
    if at is not None and time.monotonic() >= at:
        raise TimeLimitExceeded(_DEADLINE.seconds)


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise TimeLimitExceeded in this block once `seconds` of wall-clock time have passed.

    Nested limits keep the earlier deadline. A timer already running (pytest-timeout's, a
    caller's `signal.alarm`) keeps working: the backstop fires at whichever deadline comes
    first, hands an earlier outer alarm to its handler, and re-arms the outer timer with its
    remaining time afterwards.
    """
    if not seconds:
        yield
        return
    saved = (_DEADLINE.at, _DEADLINE.seconds)
    deadline = time.monotonic() + seconds
    if saved[0] is None or deadline < saved[0]:
        _DEADLINE.at, _DEADLINE.seconds = deadline, seconds
    try:
        with _backstop(deadline + BACKSTOP_SECONDS, seconds):
            yield
    finally:
        _DEADLINE.at, _DEADLINE.seconds = saved


@contextmanager
def _backstop(deadline: float, seconds: float) -> Iterator[None]:
    if (not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    started = time.monotonic()
    previous = signal.getsignal(signal.SIGALRM)
    outer_delay, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    outer: list[float | None] = [started + outer_delay if outer_delay > 0 else None]

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if now >= deadline - 0.01:
            raise TimeLimitExceeded(seconds)
        outer[0] = None  # the outer timer fired first: its handler decides
        if callable(previous):
            previous(signum, frame)
        signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 0.001))

    first = deadline if outer[0] is None else min(deadline, outer[0])
    handler: Any = on_alarm
    signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, max(first - time.monotonic(), 0.001))
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
        if outer[0] is not None:
            signal.setitimer(signal.ITIMER_REAL, max(outer[0] - time.monotonic(), 0.001),
                             outer_interval)


F = TypeVar("F", bound=Callable[..., Any])


def _checked(function: F) -> F:
    @wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        check_deadline()
        return function(*args, **kwargs)

    checked.__briefing_checked__ = True  # type: ignore[attr-defined]
    return checked  # type: ignore[return-value]


_INSTALLED = threading.Lock()
_installed = False


def install_layout_checks() -> None:
    """Put `check_deadline` where every WeasyPrint layout passes all the time: placing a block
    against the page bottom, breaking a line, measuring a preferred width (tables). Each name
    is replaced in the module that looks it up at call time. Idempotent; thread-safe."""
    global _installed
    with _INSTALLED:
        if _installed:
            return
        from weasyprint import layout
        from weasyprint.layout import inline, preferred
        from weasyprint.text import line_break

        layout.LayoutContext.overflows_page = _checked(
            layout.LayoutContext.overflows_page)
        for module in (inline, preferred, line_break):
            module.split_first_line = _checked(module.split_first_line)
        for name in ("inline_min_content_width", "inline_max_content_width",
                     "table_and_columns_preferred_widths"):
            if hasattr(preferred, name):
                setattr(preferred, name, _checked(getattr(preferred, name)))
        _installed = True
