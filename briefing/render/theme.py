"""Templates and stylesheets as themes: an ordered search path, first match wins.

A project overrides one template or one stylesheet by putting a file of the same name in its own
`templates/` or `styles/`; everything else comes from the built-in theme shipped in the package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jinja2

from briefing.errors import BriefingError
from briefing.source.project import Brand, load_project


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
            if candidate.is_file():
                return candidate.read_text(encoding="utf-8")
        if optional:
            return ""
        where = self._where(self.style_dirs)
        raise BriefingError.at(name, None, f"stylesheet not found in {where}")

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


@cache
def _environment(dirs: tuple[Path, ...]) -> jinja2.Environment:
    # Autoescaping is always on: content is data and is never rendered as a template.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

