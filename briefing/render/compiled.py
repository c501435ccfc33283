"""The built-in theme's templates compiled once, when briefing is set up, not in every process.

Jinja2 turns each template into Python source and compiles that; for the templates a document
uses it took about 60 ms of every new process, as much as laying out the seed's cover.
`make` runs `python -m briefing.render.precompile` first, which compiles the built-in theme's
templates into the environment's own folder (`<sys.prefix>/var/cache/briefing/templates`,
inside `.venv/`); each build then loads them from there (Jinja2's bytecode cache), read only.

A cached template is used only when it was compiled from the very text the theme holds now
(Jinja2 checks a digest of the source, its own version and Python's): one edited since is
compiled as before, and a project's own templates always are. Nothing is written at build
time, and the folder is as trusted as the `.venv/` its Python bytecode is in.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

import jinja2
from jinja2.bccache import Bucket

#: where `python -m briefing.render.precompile` writes, and builds read
FOLDER = Path(sys.prefix) / "var" / "cache" / "briefing" / "templates"


class CompiledTemplates(jinja2.BytecodeCache):
    """Jinja2's bytecode cache over one folder: read at build time, written by precompile.py."""

    def __init__(self, folder: Path, *, writable: bool = False):
        self.folder = folder
        self.writable = writable

    def _path(self, bucket: Bucket) -> Path:
        return self.folder / f"{bucket.key}.jinja"

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            with self._path(bucket).open("rb") as file:
                _load(bucket, file)
        except OSError:  # not compiled ahead (a project's own template): Jinja2 compiles it
            return

    def dump_bytecode(self, bucket: Bucket) -> None:
        if not self.writable:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                bucket.write_bytecode(file)
            os.replace(temporary, self._path(bucket))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _load(bucket: Bucket, file: BinaryIO) -> None:
    """The bucket's code from `file`, or none (then Jinja2 compiles the template): a file cut
    short or damaged is never an error."""
    try:
        bucket.load_bytecode(file)
    except Exception:
        bucket.reset()


#: what every build's template environment reads (render/theme.py)
BUILTIN = CompiledTemplates(FOLDER)
