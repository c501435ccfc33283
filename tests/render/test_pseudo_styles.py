"""Pseudo-element styles made when asked for (render/pseudo_styles.py): the same PDF, byte for
byte, as with WeasyPrint's own methods, on a document with list markers and footnotes at the
foot of the page (the pseudo-elements a box does ask for), with far fewer styles made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from weasyprint import css as weasyprint_css
from weasyprint.css import StyleFor

from briefing.render import pseudo_styles
from briefing.render.pdf import render_pdf
from tests.conftest import installed_over_its_source_only, one_layout_html

DOCUMENT = """\
title: Pseudo-elements
sections:
  - title: Questions
    questions:
      - question: What does a list look like?
        answer: |
          Three points:[^a]

          - the first point, with a note;[^b]
          - the second point;
          - the third point.

          1. one
          2. two
      - question: And a second question?
        answer: A plain answer that cites a study.[^a]
footnotes:
  a: The study, 2016.
  b: Another study, 2019.
"""


@pytest.fixture(scope="module")
def html_and_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    return one_layout_html(tmp_path_factory.mktemp("pseudo"), DOCUMENT, page_notes=True)


def render(html: str, project: Path, methods: tuple[Any, Any],
           monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, list[str | None]]:
    made: list[str | None] = []
    real_init = weasyprint_css.ComputedStyle.__init__

    def counted(self: Any, parent_style: Any, cascaded: Any, pseudo_type: Any,
                *args: Any) -> None:
        made.append(pseudo_type)
        real_init(self, parent_style, cascaded, pseudo_type, *args)

    with monkeypatch.context() as patch:
        patch.setattr(pseudo_styles, "install_pseudo_styles", lambda: True)
        patch.setattr(StyleFor, "set_computed_styles", methods[0])
        patch.setattr(StyleFor, "__call__", methods[1])
        patch.setattr(weasyprint_css.ComputedStyle, "__init__", counted)
        part = render_pdf(html, name="document", base=project / "content", project=project,
                          shown="content/doc.yaml")
    return part.pdf, made


def test_the_same_bytes_as_weasyprints_own(html_and_project: tuple[str, Path],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    html, project = html_and_project
    assert pseudo_styles.install_pseudo_styles()
    own = (pseudo_styles.replaced_set, pseudo_styles.replaced_call)
    mine = (pseudo_styles.set_computed_styles, pseudo_styles.style_for)
    assert own[0] is not mine[0] and own[1] is not mine[1]
    their_pdf, their_styles = render(html, project, own, monkeypatch)
    my_pdf, my_styles = render(html, project, mine, monkeypatch)
    assert my_pdf == their_pdf
    # WeasyPrint: six for every element; here only those a box asked for
    assert their_styles.count("marker") > 50 and their_styles.count("footnote-call") > 50
    assert 0 < my_styles.count("marker") <= 12  # the list items (answers, contents)
    assert 0 < my_styles.count("footnote-call") <= 3  # the footnotes' calls
    assert my_styles.count("note-callback") == 0
    assert len(my_styles) * 3 < len(their_styles)
    assert my_styles.count(None) == their_styles.count(None)  # the elements' own: all made


def test_installed_over_this_weasyprint_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert pseudo_styles.install_pseudo_styles()
    installed_over_its_source_only(pseudo_styles.install_pseudo_styles, StyleFor,
                                   "set_computed_styles", pseudo_styles.replaced_set,
                                   pseudo_styles.set_computed_styles, monkeypatch)
