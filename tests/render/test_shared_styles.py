"""Equivalent elements given one computed style (render/shared_styles.py): the same PDF, byte
for byte, as with WeasyPrint's own cascade, on a document whose questions (each with an id)
hold lists, quotes, links and footnotes at the foot of the page, with far fewer styles; an
`anchor: inherit` keeps each element's own; installed over this WeasyPrint only."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from weasyprint import CSS, HTML
from weasyprint.css import StyleFor, get_all_computed_styles

from briefing.render import shared_styles
from briefing.render.pdf import render_pdf
from tests.conftest import installed_over_its_source_only, one_layout_html

QUESTION = """\
      - question: Question {n}, with a list and a quote?
        answer: |
          Three points, one of them [a link](https://example.org/{n}):[^n{note}]

          - the first point, with a note;[^n{other}]
          - the second point;

          > A quoted sentence from the study.

          1. one
          2. two
"""


def document(questions: int) -> str:
    lines = ["title: Shared styles", "sections:", "  - title: Questions", "    questions:"]
    lines += [QUESTION.format(n=n + 1, note=n % 3, other=(n + 1) % 3) for n in range(questions)]
    lines += ["footnotes:", "  n0: The study, 2016.", "  n1: Another study, 2019.",
              "  n2: A third study, 2021."]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def html_and_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    return one_layout_html(tmp_path_factory.mktemp("shared"), document(24), page_notes=True)


def render(html: str, project: Path, init: Any,
           monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, int, int, int]:
    """The PDF, and how many distinct styles its elements, its pseudo-elements and its pages
    (with their margin boxes) were given."""
    made: list[StyleFor] = []

    def kept(self: StyleFor, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        made.append(self)

    with monkeypatch.context() as patch:
        patch.setattr(shared_styles, "install_shared_styles", lambda: True)
        patch.setattr(StyleFor, "__init__", kept)
        if init is shared_styles.replaced_init:  # WeasyPrint's own: page styles not shared
            patch.setattr(shared_styles, "replaced_init", None)
        part = render_pdf(html, name="document", base=project / "content", project=project,
                          shown="content/doc.yaml")
    styles = made[0].get_computed_styles()
    elements = {id(style) for (element, pseudo), style in styles.items()
                if pseudo is None and not isinstance(element, tuple)}
    pseudo = {id(style) for (element, pseudo), style in styles.items()
              if pseudo is not None and not isinstance(element, tuple)}
    pages = {id(style) for (element, pseudo), style in styles.items()
             if isinstance(element, tuple)}
    return part.pdf, len(elements), len(pseudo), len(pages)


def pdf_pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def test_the_same_bytes_with_far_fewer_styles(html_and_project: tuple[str, Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    html, project = html_and_project
    assert shared_styles.install_shared_styles()
    own, mine = shared_styles.replaced_init, shared_styles.style_for_init
    assert own is not mine
    their_pdf, their_elements, their_pseudo, their_pages = render(html, project, own,
                                                                  monkeypatch)
    my_pdf, my_elements, my_pseudo, my_pages = render(html, project, mine, monkeypatch)
    assert my_pdf == their_pdf
    assert pdf_pages(my_pdf) >= 4
    # each question's id made every element inside it a style of its own
    assert their_elements > 24 * 12
    assert my_elements * 2 < their_elements
    assert my_pseudo * 2 < their_pseudo  # list markers and notes' calls made when asked
    # a style for each page and each of its margin boxes; here the first page's, and one
    # set for each kind of page after it
    assert their_pages >= 19 * pdf_pages(my_pdf)
    assert my_pages * 2 < their_pages


def styles_of(markup: str, css: str) -> dict[str, Any]:
    """The computed style of each element of `markup` with a `title`, by that title."""
    html = HTML(string=markup)
    style_for = get_all_computed_styles(html, user_stylesheets=[CSS(string=css)])
    return {element.get("title"): style_for(element)
            for element in html.etree_element.iter() if element.get("title")}


MARKUP = """<body>
<div id="first"><p class="x" title="a">One</p><p class="x" title="b">Two</p></div>
<div id="second"><p class="x" title="c">Three</p></div>
</body>"""


def test_elements_in_equivalent_parents_share_a_style() -> None:
    assert shared_styles.install_shared_styles()
    styles = styles_of(MARKUP, ".x { color: red }")
    # siblings shared by WeasyPrint; the cousin in the other div (another id) shared too
    assert styles["a"] is styles["b"] is styles["c"]
    assert styles["a"]["anchor"] is None


def test_an_inherited_anchor_keeps_each_elements_own() -> None:
    assert shared_styles.install_shared_styles()
    styles = styles_of(MARKUP, ".x { -weasy-anchor: inherit }")
    assert styles["a"] is styles["b"]
    assert styles["a"] is not styles["c"]
    assert (styles["a"]["anchor"], styles["c"]["anchor"]) == ("first", "second")


def test_installed_over_this_weasyprint_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert shared_styles.install_shared_styles()
    installed_over_its_source_only(shared_styles.install_shared_styles, StyleFor, "__init__",
                                   shared_styles.replaced_init, shared_styles.style_for_init,
                                   monkeypatch)



def test_equal_cascades_are_one_dict() -> None:
    holder = type("Holder", (), {})()
    value, equal = ["red"], ["red"]
    first = {"color": (value, (1, 0, (0, 1, 0)))}
    second = {"color": (value, (1, 0, (0, 1, 0)))}
    other = {"color": (equal, (1, 0, (0, 1, 0)))}  # an equal value, another object
    assert shared_styles.shared_cascade(holder, first) is first
    assert shared_styles.shared_cascade(holder, second) is first
    assert shared_styles.shared_cascade(holder, other) is other
    unhashable = {"color": (value, [1, 0, (1, 0, 0)])}
    assert shared_styles.shared_cascade(holder, unhashable) is unhashable
