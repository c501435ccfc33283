"""Helpers for the benchmark scripts: run a command and measure wall time and peak memory."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def measure(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far: run each measure in a fresh process
    # (python bench/x.py) when comparing peaks; `before` only guards against misuse.
    return seconds, max(peak, before) / 1024


def best_of(n: int, args: list[str], cwd: Path, env: dict[str, str] | None = None
            ) -> tuple[float, float]:
    runs = [measure(args, cwd, env) for _ in range(n)]
    return min(r[0] for r in runs), max(r[1] for r in runs)
