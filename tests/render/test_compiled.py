"""render/compiled.py: the built-in templates compiled ahead, loaded without compiling, and
never used for a template whose text changed since."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from briefing.errors import BriefingError
from briefing.render.compiled import CompiledTemplates
from briefing.render.precompile import compile_theme
from briefing.render.theme import builtin_theme, sandbox


def refuse_to_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    def compile(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled at build time")

    monkeypatch.setattr(jinja2.Environment, "compile", compile)


def test_builtin_templates_load_without_compiling(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    names = compile_theme(tmp_path)
    assert "document.html.j2" in names and "cover.html.j2" in names
    assert len(list(tmp_path.glob("*.jinja"))) == len(names)
    builtin = builtin_theme() / "templates"
    fresh = sandbox((builtin,))
    expected = fresh.get_template("macros.html.j2").module.cover_page  # type: ignore[attr-defined]
    assert callable(expected)
    refuse_to_compile(monkeypatch)
    ahead = sandbox((builtin,), CompiledTemplates(tmp_path))
    for name in names:
        ahead.get_template(name)
    # and nothing was written at build time (the cache is read only)
    assert len(list(tmp_path.glob("*"))) == len(names)


def compiled_ahead(tmp_path: Path, name: str, text: str) -> tuple[Path, Path]:
    """A theme of one template, compiled into a cache folder as precompile.py does: the
    template's folder and the cache's."""
    theme = tmp_path / "theme" / "templates"
    theme.mkdir(parents=True)
    (theme / name).write_text(text, encoding="utf-8")
    cache = tmp_path / "compiled"
    sandbox((theme,), CompiledTemplates(cache, writable=True)).get_template(name)
    return theme, cache


def test_an_edited_template_is_compiled_again(tmp_path: Path) -> None:
    theme, cache = compiled_ahead(tmp_path, "note.html.j2", "<p>{{ word }}</p>\n")
    assert len(list(cache.glob("*.jinja"))) == 1
    (theme / "note.html.j2").write_text("<p>edited {{ word }}</p>\n", encoding="utf-8")
    reading = sandbox((theme,), CompiledTemplates(cache))
    assert reading.get_template("note.html.j2").render(word="x") == "<p>edited x</p>"


@pytest.mark.parametrize("damage", [b"", b"garbage", None])
def test_a_damaged_cache_file_is_compiled_instead(tmp_path: Path, damage: bytes | None) -> None:
    theme, cache = compiled_ahead(tmp_path, "note.html.j2", "<p>{{ word }}</p>\n")
    [written] = cache.glob("*.jinja")
    data = written.read_bytes()
    written.write_bytes(data[: len(data) // 2] if damage is None else damage)
    reading = sandbox((theme,), CompiledTemplates(cache))
    assert reading.get_template("note.html.j2").render(word="x") == "<p>x</p>"


def test_sandbox_holds_for_compiled_templates(tmp_path: Path) -> None:
    theme, cache = compiled_ahead(tmp_path, "bad.html.j2", "{{ word.__class__.__mro__ }}\n")
    reading = sandbox((theme,), CompiledTemplates(cache))
    with pytest.raises(BriefingError, match=r"bad\.html\.j2:1: not allowed in a template: "
                                            r"access to attribute '__class__'"):
        reading.get_template("bad.html.j2").render(word="x")


def test_make_compiled_the_theme_the_build_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    # `make test` (and `make pdf`) run `python -m briefing.render.precompile` first
    from briefing.render.compiled import BUILTIN

    builtin = builtin_theme() / "templates"
    refuse_to_compile(monkeypatch)
    reading = sandbox((builtin,), BUILTIN)
    for path in sorted(builtin.glob("*.j2")):
        reading.get_template(path.name)
