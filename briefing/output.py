"""Writing outputs safely: a temporary file in the same folder, renamed into place when complete."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from briefing.errors import BriefingError, shown_path

#: the longest file name most filesystems take, in bytes
MAX_NAME_BYTES = 255
#: the longest output stem: room for `.html` and the like after it
MAX_STEM = 240


def safe_name(stem: str) -> str:
    """A file name from content that cannot leave the output folder or hide itself, and that
    fits the filesystem with its extension."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")
    return cleaned[:MAX_STEM].rstrip("-.") or "document"


#: what makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection")
FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_cell(text: str) -> str:
    """A CSV field a spreadsheet shows as text: one that begins like a formula gets a leading
    apostrophe (`=HYPERLINK(...)` would otherwise run when the file is opened), as OWASP
    advises; the csv module quotes it and doubles any quote inside."""
    return f"'{text}" if text.startswith(FORMULA_LEADERS) else text


def chosen_paths(output: Path) -> tuple[Path, Path]:
    """The PDF and web page for `-o/--output NAME`: the folder as given, the file name made
    safe like a derived one (`my brief;v2.pdf` gives `my-brief-v2.pdf`), `.pdf` added when it
    is missing, and the web page next to the PDF with the same stem."""
    stem = output.stem if output.suffix.lower() == ".pdf" else output.name
    name = safe_name(stem)
    return output.parent / f"{name}.pdf", output.parent / f"{name}.html"


def write_atomic(target: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one; failures leave no temp file."""
    write_together([(target, data)])


def write_together(files: Sequence[tuple[Path, bytes]]) -> None:
    """Write several outputs that belong together (a document's PDF and HTML): all of them or,
    on any failure or signal, none, the previous files left byte for byte.

    Every file is first written to a temporary file in its target's folder (a rename across
    filesystems is a copy) under a name no other build uses (process id and a random part,
    the target's name shortened so the whole stays within 255 bytes), so two builds of the
    same project at once each rename complete files into place and the last one wins. The
    temporary names are chosen before the files exist and they are created inside the `try`,
    so an interruption (Ctrl-C, SIGTERM, which the CLI turns into an exception) at any point
    removes them. Only when every file is on disk are they renamed, with SIGINT, SIGTERM and
    SIGHUP held back: a signal that has arrived by then cancels the renames, and none arrives
    between two of them. A failure names the file: `out/doc.pdf: cannot write: No space...`.
    """
    temps: list[Path] = []
    try:
        for target, data in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = temp_name(target)
            temps.append(temp)
            try:
                _write_synced(temp, data)
            except OSError as exc:
                raise BriefingError.at(shown_path(target), None,
                                       f"cannot write: {exc.strerror or exc}") from None
        with _signals_held() as arrived:
            stopped = arrived() or _stopping
            if not stopped:
                for (target, _), temp in zip(files, temps, strict=True):
                    try:
                        os.replace(temp, target)
                    except OSError as exc:
                        raise BriefingError.at(shown_path(target), None,
                                               f"cannot write: {exc.strerror or exc}") from None
        if stopped:  # the signal's handler did not raise: still, nothing was renamed
            raise BriefingError.at(shown_path(files[0][0]), None,
                                   "interrupted by a signal: not written")
    except BaseException:
        for temp in temps:
            temp.unlink(missing_ok=True)
        raise
    for folder in dict.fromkeys(target.parent for target, _ in files):
        _sync_folder(folder)


def temp_name(target: Path) -> Path:
    """`.NAME.PID.RANDOM.tmp` beside `target`, NAME cut so the whole fits MAX_NAME_BYTES."""
    tail = f".{os.getpid()}.{secrets.token_hex(4)}.tmp"
    room = MAX_NAME_BYTES - len(tail) - 1
    encoded = os.fsencode(target.name)
    name = encoded[:room].decode("utf-8", "ignore") if len(encoded) > room else target.name
    return target.parent / f".{name}{tail}"


def _write_synced(temp: Path, data: bytes) -> None:
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_BINARY", 0))
    with os.fdopen(os.open(temp, flags, 0o644), "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


_stopping = False


def stop_writing() -> None:
    """From now on this process renames nothing into place (after SIGTERM: see below)."""
    global _stopping
    _stopping = True


class Terminated(SystemExit):
    """SIGTERM (or SIGHUP) as an exception: like Ctrl-C, it unwinds the build, so temporary
    output files are removed and the previous outputs stay as they were. Exit status is
    128 + the signal's number, as a shell reports a process killed by it."""


def terminate_as_exception() -> None:
    """Turn SIGTERM and SIGHUP into Terminated, in the CLI and in each `-j` worker process;
    after the signal, write_together renames nothing more, even for a job that was queued."""

    def on_signal(signum: int, frame: object) -> None:
        stop_writing()
        signal.signal(signum, signal.SIG_DFL)  # a second signal kills at once
        raise Terminated(128 + signum)

    previous_hook = sys.unraisablehook

    def unraisable(hook: Any) -> None:
        """A signal that arrived while a finaliser (`__del__`) ran raised Terminated there,
        where Python prints and ignores it: send it again a moment later (from a thread, so
        the handler runs back in the interrupted code, not in this hook), to unwind the build."""
        if isinstance(hook.exc_value, Terminated) and isinstance(hook.exc_value.code, int):
            signum = hook.exc_value.code - 128
            signal.signal(signum, on_signal)
            resend = threading.Timer(0.05, os.kill, (os.getpid(), signum))
            resend.daemon = True
            resend.start()
            return
        previous_hook(hook)

    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) == signal.SIG_DFL:
            signal.signal(number, on_signal)
            sys.unraisablehook = unraisable


_HELD = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
              if hasattr(signal, name))


@contextlib.contextmanager
def _signals_held() -> Iterator[Callable[[], bool]]:
    """Hold back SIGINT, SIGTERM and SIGHUP; the caller asks whether one has arrived. On
    leaving, a held signal is delivered (the CLI's handler raises, and the caller's clean-up
    runs). Where signals cannot be held (another thread, Windows), nothing is held."""
    if not hasattr(signal, "pthread_sigmask") or \
            threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield lambda: bool(set(signal.sigpending()) & set(_HELD))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (a crash right after a build keeps the new file)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot sync a folder; the file itself is synced
    finally:
        os.close(fd)
