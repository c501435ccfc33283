"""What a job gives back, and the one place where --strict turns warnings into a failure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from briefing.errors import BriefingError, Problem


@dataclass(frozen=True)
class Output:
    source: Path
    pdf: Path
    html: Path | None
    pages: int
    size: int
    seconds: float
    warnings: tuple[Problem, ...] = ()
    #: per-recipient copies removed because their recipient left the recipients file
    removed: tuple[Path, ...] = ()


def fail_if_strict(strict: bool, warnings: Sequence[Problem]) -> None:
    """Under --strict a warning fails the build, marked so the reader knows why."""
    if strict and warnings:
        raise BriefingError(Problem(p.path, p.line, p.message + " (--strict)") for p in warnings)
