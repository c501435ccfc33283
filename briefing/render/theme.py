"""Templates and stylesheets as themes: an ordered search path, first match wins.

A project overrides one template or one stylesheet by putting a file of the same name in its own
`templates/` or `styles/`; everything else comes from the built-in theme shipped in the package.

Templates are often supplied by outside designers, so they are untrusted like content: every
template (the project's and the built-in ones alike) runs in Jinja2's SandboxedEnvironment (no
access to Python internals such as `__globals__`, so no way to run a command or open a file),
and templates and stylesheets are read through source/files.py (a symlink that leads out of
the project, a FIFO or a device is refused). A template that breaks these rules, includes
itself or a template that does not exist is an error naming the template and its line.
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
from jinja2.loaders import split_template_path

from briefing.errors import BriefingError, shown_path
from briefing.source.files import Refused, read_inside
from briefing.source.project import Brand, load_project

#: the largest template or stylesheet the theme reads
MAX_THEME_FILE_BYTES = 8 * 1024 * 1024


def builtin_theme() -> Path:
    """The default theme: inside the wheel, or the repository root in a development install."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_theme"
    if (packaged / "templates").is_dir():
        return packaged
    return package.parent


@dataclass(frozen=True)
class Theme:
    template_dirs: tuple[Path, ...]
    style_dirs: tuple[Path, ...]
    #: the project file's brand kit: CSS custom properties, and `brand` in every template
    brand: Brand = field(default_factory=Brand)
    #: the project file's `[strings]`: language -> template word -> wording
    strings: Mapping[str, Mapping[str, str]] = field(default_factory=dict, hash=False)

    def stylesheet(self, name: str, *, optional: bool = False) -> str:
        for folder in self.style_dirs:
            candidate = folder / name
            if candidate.is_file() or candidate.is_symlink():
                return _read_theme_file(candidate, folder)
        if optional:
            return ""
        where = self._where(self.style_dirs)
        raise BriefingError.at(name, None, f"stylesheet not found in {where}")

    def customised(self, *names: str) -> bool:
        """Whether the project has its own version of any of these templates (`.j2`) or
        stylesheets, in place of the built-in theme's."""
        builtin = builtin_theme().resolve()
        for name in names:
            for folder in self.template_dirs if name.endswith(".j2") else self.style_dirs:
                if (folder / name).is_file() or (folder / name).is_symlink():
                    if folder.resolve().parent != builtin:
                        return True
                    break
        return False

    def environment(self) -> jinja2.Environment:
        return _environment(self.template_dirs)

    @staticmethod
    def _where(dirs: tuple[Path, ...]) -> str:
        return ", ".join(str(d) for d in dirs)


def theme_for(project: Path) -> Theme:
    """The project's own folders first, then the built-in theme; the brand kit and strings of
    the project file (briefing.toml) on top."""
    builtin = builtin_theme()

    def search(kind: str) -> tuple[Path, ...]:
        folders = [project / kind, builtin / kind]
        unique: list[Path] = []
        for folder in folders:
            if folder.is_dir() and folder.resolve() not in [u.resolve() for u in unique]:
                unique.append(folder)
        return tuple(unique)

    settings = load_project(project)
    return Theme(template_dirs=search("templates"), style_dirs=search("styles"),
                 brand=settings.brand, strings=settings.strings)


def _read_theme_file(path: Path, folder: Path) -> str:
    """A template or stylesheet of `folder` (`templates/` or `styles/`): it must resolve inside
    the folder's project (or the built-in theme), the folder's parent."""
    shown = _shown(path)
    try:
        data = read_inside(path, folder.parent, limit=MAX_THEME_FILE_BYTES, shown=shown)
    except FileNotFoundError:
        raise BriefingError.at(shown, None, "cannot read: no such file") from None
    except Refused as exc:
        message = exc.reason
        if message == "outside the project" and path.is_symlink():
            message = "a symbolic link to a file outside the project"
        raise BriefingError.at(shown, None, f"refused to read: {message}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BriefingError.at(shown, None, "not UTF-8; save it as UTF-8") from None


def _shown(path: Path) -> str:
    """The path as typed from the current folder, its last part never resolved (a symlink
    that is refused is shown by its own name, not by where it leads)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return shown_path(path)


class _ThemeLoader(jinja2.BaseLoader):
    """Jinja2's search path over the theme folders, reading through _read_theme_file."""

    def __init__(self, dirs: tuple[Path, ...]):
        self.dirs = dirs

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)  # `..` is TemplateNotFound
        for folder in self.dirs:
            candidate = folder.joinpath(*pieces)
            if not os.path.lexists(candidate):
                continue
            source = _read_theme_file(candidate, folder)
            return source, str(candidate), _unchanged(candidate, source)
        raise jinja2.TemplateNotFound(template)


def _unchanged(path: Path, source: str) -> Callable[[], bool]:
    """Jinja2's `uptodate`: the template is reloaded when its file's text changes.

    Not its modification time, as Jinja2's own loaders do: file times move in clock ticks of
    a few milliseconds, so a save that truncates and then writes (as `write_text` and many
    editors do) can leave the time the preview saw on the empty file, which then stayed."""
    known = source.encode("utf-8")

    def check() -> bool:
        if path.is_symlink():  # read again through _read_theme_file, which checks where
            return False
        try:
            with open(path, "rb") as file:
                data = file.read(len(known) + 4)  # a BOM, or a longer file, reads as changed
        except OSError:
            return False
        return data == known or data == b"\xef\xbb\xbf" + known

    return check


class _CheckedTemplate(jinja2.Template):
    """A template whose failures are BriefingErrors naming the template file and line."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        try:
            return super().render(*args, **kwargs)
        except RecursionError as exc:
            raise _template_error(exc, "includes or extends itself (endless recursion)") from None
        except jinja2.TemplateNotFound as exc:
            raise _template_error(exc, f"template `{exc.name}` not found in the theme "
                                       "(templates/ of the project or the built-in theme; a "
                                       "path leaving them is refused)") from None
        except jinja2.exceptions.SecurityError as exc:
            raise _template_error(exc, f"not allowed in a template: {exc}") from None


def _template_error(exc: BaseException, message: str) -> BriefingError:
    """`message` at the innermost template line the traceback passes through (for endless
    recursion: the line that repeats most)."""
    lines: list[tuple[str, int]] = []
    tb: types.TracebackType | None = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            lines.append((filename, tb.tb_lineno))
        tb = tb.tb_next
    if not lines:
        return BriefingError.at("templates", None, message)
    where = max(lines, key=lines.count) if isinstance(exc, RecursionError) else lines[-1]
    return BriefingError.at(_shown(Path(where[0])), where[1], message)


class _Sandbox(jinja2.sandbox.SandboxedEnvironment):
    template_class = _CheckedTemplate


@cache
def _environment(dirs: tuple[Path, ...]) -> jinja2.Environment:
    from briefing.render.compiled import BUILTIN

    return sandbox(dirs, BUILTIN)  # the built-in templates compiled at setup (compiled.py)


def sandbox(dirs: tuple[Path, ...],
            compiled: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    """The environment every template runs in, over the theme folders `dirs`; `compiled`:
    templates compiled ahead (render/compiled.py; precompile.py compiles with this
    environment)."""
    # Autoescaping is always on: content is data and is never rendered as a template.
    return _Sandbox(
        loader=_ThemeLoader(dirs),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=compiled,
    )

