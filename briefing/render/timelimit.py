"""A wall-clock limit on each layout, so a build ends with an error, never a hang.

The limit grows with the size of the part's HTML, so large legitimate documents still build.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

#: per WeasyPrint run: a fixed allowance plus an amount per KB of the part's HTML
TIME_BASE_SECONDS = 60.0
TIME_SECONDS_PER_KB = 0.5
#: set to a number of seconds to replace the computed limit (0 turns it off)
TIME_LIMIT_ENV = "BRIEFING_TIME_LIMIT"


class TimeLimitExceeded(BaseException):
    """Raised in the main thread when a run is out of time. A BaseException, like
    KeyboardInterrupt, so that library code which catches Exception cannot swallow it."""

    def __init__(self, seconds: float):
        super().__init__(seconds)
        self.seconds = seconds


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


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise TimeLimitExceeded in this block after `seconds` of wall-clock time.

    A timer already running (pytest-timeout's, a caller's `signal.alarm`) keeps working: ours
    fires at whichever deadline comes first, hands an earlier outer alarm to its handler, and
    the outer timer is re-armed with its remaining time afterwards.
    """
    if (not seconds or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    started = time.monotonic()
    deadline = started + seconds
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

    def arm() -> None:
        first = deadline if outer[0] is None else min(deadline, outer[0])
        signal.setitimer(signal.ITIMER_REAL, max(first - time.monotonic(), 0.001))

    handler: Any = on_alarm
    signal.signal(signal.SIGALRM, handler)
    try:
        arm()
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
        if outer[0] is not None:
            signal.setitimer(signal.ITIMER_REAL, max(outer[0] - time.monotonic(), 0.001),
                             outer_interval)
