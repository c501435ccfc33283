"""Helpers for the benchmark scripts: run a command and measure wall time and peak memory."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def measure(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one child process (its own rusage, from
    wait4, so earlier children do not count; worker processes it starts are not included)."""
    started = time.perf_counter()
    child = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{args} failed: {child.stderr.read().decode() if child.stderr else ''}")
    return seconds, usage.ru_maxrss / 1024


def best_of(n: int, args: list[str], cwd: Path, env: dict[str, str] | None = None
            ) -> tuple[float, float]:
    runs = [measure(args, cwd, env) for _ in range(n)]
    return min(r[0] for r in runs), max(r[1] for r in runs)


def cpu_of(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """CPU seconds (user + system, from wait4: the child and the children it waited for, so
    `-j 2` workers count) and peak resident MB of one run of `args`."""
    cpu, _, peak = run_once(args, cwd, env)
    return cpu, peak


def run_once(args: list[str], cwd: Path, env: dict[str, str] | None = None
             ) -> tuple[float, float, float]:
    """CPU seconds, wall seconds and peak resident MB (the largest process) of one run."""
    started = time.perf_counter()
    child = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{args} failed: {child.stderr.read().decode() if child.stderr else ''}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


def interleaved(commands: dict[str, list[str]], pairs: int, cwd: Path,
                env: dict[str, str] | None = None) -> dict[str, tuple[float, float]]:
    """Each command run `pairs` times, in turn (A B A B ...), so a change in the machine's load
    falls on all of them alike; the median CPU seconds and the largest peak MB of each."""
    import statistics

    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(pairs):
        for name, args in commands.items():
            runs[name].append(cpu_of(args, cwd, env))
    return {name: (statistics.median(r[0] for r in found), max(r[1] for r in found))
            for name, found in runs.items()}


@dataclass(frozen=True)
class Command:
    """A command to compare, run in its own folder (its own project); `before` runs, untimed,
    before each measurement (e.g. to remove the previous run's outputs)."""

    name: str
    args: list[str]
    cwd: Path
    before: Callable[[], None] | None = None


@dataclass(frozen=True)
class Runs:
    """Every run of one command: (CPU seconds, wall seconds, peak MB) each, from wait4."""

    runs: tuple[tuple[float, float, float], ...]

    @property
    def cpu(self) -> float:
        return statistics.median(r[0] for r in self.runs)

    @property
    def wall(self) -> float:
        return statistics.median(r[1] for r in self.runs)

    @property
    def peak(self) -> float:
        return max(r[2] for r in self.runs)


def alternate(commands: Sequence[Command], rounds: int) -> dict[str, Runs]:
    """Each command once per round, in turn (A B C A B C ...), each in its own folder, so a
    load that comes and goes on a shared machine falls on all of them alike."""
    found: dict[str, list[tuple[float, float, float]]] = {c.name: [] for c in commands}
    for number in range(rounds):
        for command in commands:
            if command.before is not None:
                command.before()
            found[command.name].append(run_once(command.args, command.cwd))
        print(f"  round {number + 1} of {rounds} done", file=sys.stderr, flush=True)
    return {name: Runs(tuple(runs)) for name, runs in found.items()}
