"""The one error type of briefing: a problem a person can act on, with where it is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: an error fails the build; a warning only with --strict
Severity = Literal["error", "warning"]

#: characters that reorder or break the displayed text: bidi embeddings, overrides and isolates,
#: and the Unicode line and paragraph separators
INVISIBLE_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
)


def printable(text: str) -> str:
    """Escape control characters so a quoted piece of content cannot drive the terminal.

    C0/C1 controls could move the cursor or recolour the terminal; bidi overrides would make a
    message read differently from what it says. A tab is escaped too: in a quoted key or
    value it is invisible, and the message would name nothing. Ordinary text passes unchanged.
    """
    out = []
    for char in text:
        code = ord(char)
        if (code >= 0x20 and code != 0x7F and not 0x80 <= code < 0xA0
                and char not in INVISIBLE_CONTROLS):
            out.append(char)
        else:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def shown_path(path: Path) -> str:
    """A path as messages show it: relative to the current folder when it is inside it (a
    symlink by its own name, not by where it leads)."""
    here = Path.cwd().resolve()
    for candidate in (path.absolute(), path.resolve()):
        try:
            return str(candidate.relative_to(here))
        except ValueError:
            continue
    return str(path)


@dataclass(frozen=True)
class Problem:
    """One finding in one file: an error fails the build, a warning only with --strict."""

    path: Path | str
    line: int | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        prefix = "warning: " if self.severity == "warning" else ""
        return printable(f"{where}: {prefix}{self.message}")

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class BriefingError(Exception):
    """Content or usage problems, printed as `path:line: message`, never with a traceback."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def at(cls, path: Path | str, line: int | None, message: str) -> BriefingError:
        return cls([Problem(path, line, message)])
