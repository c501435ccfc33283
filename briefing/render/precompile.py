"""`python -m briefing.render.precompile`: the built-in theme's templates compiled ahead into
the environment's folder (render/compiled.py), as `make pdf` and `make test` do first."""

from __future__ import annotations

from pathlib import Path

from briefing.render.compiled import FOLDER, CompiledTemplates
from briefing.render.theme import builtin_theme, sandbox


def compile_theme(folder: Path = FOLDER) -> list[str]:
    """Compile every template of the built-in theme into `folder`; their names."""
    templates = builtin_theme() / "templates"
    environment = sandbox((templates,), CompiledTemplates(folder, writable=True))
    names = sorted(path.relative_to(templates).as_posix()
                   for path in templates.rglob("*.j2") if path.is_file())
    for name in names:
        environment.get_template(name)
    return names


if __name__ == "__main__":
    compiled = compile_theme()
    print(f"briefing: {len(compiled)} built-in templates compiled into {FOLDER}")
