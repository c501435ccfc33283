"""`briefing new`: a starter project that builds at once, copied from the files beside this one.

The starter is ordinary package data (a FAQ using every feature of the content format, a pack
with an attachment and a recipients file, the project file, images), so what `new` writes is
what a reader of this folder sees, and the tests build exactly that.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from briefing.errors import BriefingError, printable

#: written beside the starter's files, so the outputs never end up in version control
GITIGNORE = "# what `briefing build` and `briefing preview` write\nout/\n.briefing-preview/\n"


def starter_files() -> dict[str, bytes]:
    """Every file of the starter project: its path in the project and its bytes."""
    found: dict[str, bytes] = {}

    def walk(folder: Traversable, prefix: str) -> None:
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            name = f"{prefix}{entry.name}"
            if entry.is_dir():
                if entry.name != "__pycache__":
                    walk(entry, f"{name}/")
            elif not entry.name.endswith((".py", ".pyc")):
                found[name] = entry.read_bytes()

    walk(files(__name__), "")
    found[".gitignore"] = GITIGNORE.encode("utf-8")
    return found


def create_project(folder: Path) -> list[Path]:
    """Write the starter project into `folder` (made if missing) and return what was written.

    Nothing is ever overwritten: if any file the starter would write is there already, or the
    folder already holds a project (`content/` or `briefing.toml`), nothing is written."""
    starter = starter_files()
    there = [name for name in starter if (folder / name).exists()]
    there += [name for name in ("content", "briefing.toml")
              if (folder / name).exists() and name not in there]
    if there:
        shown = printable(str(folder))
        listed = ", ".join(printable(n) for n in sorted(there)[:5])
        more = f" and {len(there) - 5} more" if len(there) > 5 else ""
        raise BriefingError.at(shown, None, f"not overwriting what is there already: "
                               f"{listed}{more}; choose a new or empty folder")
    written = []
    for name, data in starter.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as handle:  # "x": never replaces a file made meanwhile
            handle.write(data)
        written.append(target)
    return written
