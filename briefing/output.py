"""Writing outputs safely: a temporary file in the same folder, renamed into place when complete."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path


def safe_name(stem: str) -> str:
    """A file name from content that cannot leave the output folder or hide itself."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")
    return cleaned or "document"


def chosen_paths(output: Path) -> tuple[Path, Path]:
    """The PDF and web page for `-o/--output NAME`: the folder as given, the file name made
    safe like a derived one (`my brief;v2.pdf` gives `my-brief-v2.pdf`), `.pdf` added when it
    is missing, and the web page next to the PDF with the same stem."""
    stem = output.stem if output.suffix.lower() == ".pdf" else output.name
    name = safe_name(stem)
    return output.parent / f"{name}.pdf", output.parent / f"{name}.html"


def write_atomic(target: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one; failures leave no temp file.

    The temporary file is in the target's folder (a rename across filesystems is a copy) under
    a name no other build uses (process id and a random part), so two builds of the same
    project at once each rename a complete file into place and the last one wins. Its name is
    chosen before it exists and it is created inside the `try`, so an interruption (Ctrl-C,
    SIGTERM, which the CLI turns into an exception) at any point removes it. The data is on
    disk before the rename, and the rename is on disk before this returns.
    """
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_BINARY", 0))
    try:
        with os.fdopen(os.open(temp, flags, 0o644), "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _sync_folder(folder)


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
