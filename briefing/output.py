"""Writing outputs safely: a temporary file in the same folder, renamed into place when complete."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path


def safe_name(stem: str) -> str:
    """A file name from content that cannot leave the output folder or hide itself."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")
    return cleaned or "document"


def write_atomic(target: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one; failures leave no temp file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
