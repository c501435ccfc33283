"""Reading a file of the project: inside it, regular, bounded, and never blocking.

Every file the project supplies (content, packs, recipients, templates, stylesheets, images,
fonts) is read through `read_inside`, so a symbolic link cannot make the build read a file
outside the project, a FIFO cannot hang it and `/dev/zero` cannot fill the memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class Refused(ValueError):
    """A file that may not be read; `reason` says why, in words for the project's user."""

    def __init__(self, shown: str, reason: str, verb: str = "read"):
        self.shown = shown
        self.reason = reason
        super().__init__(f"refused to {verb} {shown}: {reason}")


def is_inside(path: Path, root: Path) -> bool:
    """Whether `path`, with every symbolic link followed, is `root` or below it."""
    resolved, base = path.resolve(), root.resolve()
    return resolved == base or base in resolved.parents


def read_inside(path: Path, root: Path, *, limit: int, shown: str | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes whose resolved path is in `root`.

    The check is on the resolved path, so a symlink cannot reach out of `root`; the resolved
    file is then opened without following a symlink (one swapped in after the check is
    refused) and without blocking (a FIFO would otherwise wait for a writer), and whatever is
    open must be a regular file: no FIFOs, sockets or devices. The size is checked on the open
    file before reading and again while reading (a file that grows). A missing file is
    FileNotFoundError; everything else is Refused.
    """
    shown = shown if shown is not None else str(path)
    resolved = path.resolve()
    if not is_inside(resolved, root):
        raise Refused(shown, "outside the project")
    flags = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
             | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    try:
        fd = os.open(resolved, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise Refused(shown, exc.strerror or str(exc)) from None
    too_big = f"larger than {_megabytes(limit)}"
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Refused(shown, "not a regular file")
        if info.st_size > limit:
            raise Refused(shown, too_big)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise Refused(shown, too_big)
    return data


def _megabytes(limit: int) -> str:
    mb = limit / 1024 / 1024
    return f"{mb:.0f} MB" if mb >= 1 else f"{limit // 1024} KB"
