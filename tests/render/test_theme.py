"""Themes are search paths: a project overrides one template or stylesheet, keeps the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

import briefing
from briefing.render.theme import builtin_theme, theme_for

from conftest import MINIMAL, pdftotext, write_project


@pytest.fixture(scope="module")
def overridden(tmp_path_factory: pytest.TempPathFactory) -> briefing.Output:
    project = write_project(tmp_path_factory.mktemp("themed"), {
        "content/brief.yaml": MINIMAL,
        # one template replaced: the cover
        "templates/cover.html.j2": """\
            {% extends "base.html.j2" %}
            {% block content %}<div id="cover"><h1>OUR OWN COVER: {{ doc.title }}</h1></div>
            {% endblock %}
            """,
        # one stylesheet added after the built-in ones
        "styles/custom.css": ".question-title { text-transform: uppercase; }\n",
    })
    result = briefing.build(project=project)
    assert result.ok, result.failures
    return result.outputs[0]


def test_overridden_template_is_used(overridden: briefing.Output) -> None:
    cover = pdftotext(overridden.pdf, "-f", "1", "-l", "1")
    assert "OUR OWN COVER: A small briefing" in cover


def test_other_templates_come_from_the_builtin_theme(overridden: briefing.Output) -> None:
    body = pdftotext(overridden.pdf, "-f", "2", "-l", "2")
    assert "In this briefing" in body
    assert "WHAT IS THIS?" in body  # custom.css applied on top of the built-in styles


def test_search_order(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    theme = theme_for(tmp_path)
    assert theme.template_dirs[0] == tmp_path / "templates"
    assert theme.template_dirs[-1] == builtin_theme() / "templates"
    assert len(theme.style_dirs) == 1  # the project has no styles/ of its own


def test_content_is_never_a_template(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"content/t.yaml": """\
        title: "{{ 7 * 7 }} and {% raw %}"
        sections:
          - title: S
            questions:
              - question: "{{ doc }}?"
                answer: "<b>bold</b> {{ 6 * 7 }}"
        """})
    from briefing.render.html import PAPERS, body_html
    from briefing.source.prepare import prepare

    composed = prepare(project / "content" / "t.yaml", project)
    html = body_html(composed, theme_for(project), PAPERS["a4"], first_page=1)
    assert "{{ doc }}?" in html and "{{ 6 * 7 }}" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    assert "42" not in html


def test_a_template_saved_within_one_clock_tick_is_read_again(tmp_path: Path) -> None:
    """File times move in ticks of a few milliseconds: a save that truncates and then writes
    can keep the time of the empty file. The preview once kept that empty template."""
    import os

    project = write_project(tmp_path, {"templates/note.html.j2": "first"})
    template = project / "templates" / "note.html.j2"
    environment = theme_for(project).environment()
    assert environment.get_template("note.html.j2").render() == "first"
    stamp = template.stat().st_mtime_ns
    template.write_text("again", encoding="utf-8")  # same size,
    os.utime(template, ns=(stamp, stamp))  # same time
    assert environment.get_template("note.html.j2").render() == "again"
