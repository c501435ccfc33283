"""Page references in linear time (render/targets.py): the same PDF, byte for byte, as with
WeasyPrint's own method, on a document whose contents and back-links all print pages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from weasyprint.css.targets import TargetCollector

from briefing.render import targets
from briefing.render.html import PAPERS, document_html
from briefing.render.pdf import render_pdf
from briefing.render.theme import theme_for
from briefing.source.prepare import prepare
from tests.conftest import REPO, write_project


def weasyprints_own() -> Callable[..., Any]:
    """WeasyPrint's own method, whether or not an earlier render replaced it."""
    targets.install_linear_target_counters()
    assert targets.replaced is not None
    return targets.replaced  # type: ignore[no-any-return]


def long_document() -> str:
    """40 questions, each calling one of 8 notes: a contents of 40 page numbers, and each
    note's back-links with the page of each of its 5 calls."""
    lines = ["title: Page references", "sections:", "  - title: Questions", "    questions:"]
    sentence = "The public justice system responds to the crime and the survivors. "
    for n in range(40):
        lines += [f"      - question: Question {n + 1} with a page number?",
                  f"        answer: {sentence * (2 + n % 7)}[^n{n % 8}]"]
    lines.append("footnotes:")
    lines += [f"  n{i}: Note {i}." for i in range(8)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def html_and_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    project = write_project(tmp_path_factory.mktemp("targets"),
                            {"content/doc.yaml": long_document()})
    composed = prepare(project / "content" / "doc.yaml", project)
    html = document_html(composed, theme_for(REPO), PAPERS["a5"], notes_follow=True)
    assert html is not None
    # The built-in references name their targets with attr(), which WeasyPrint does not
    # index by anchor; a project's stylesheet may name them with url(), which it does: the
    # section's heading here prints the pages of three questions further on.
    pages = " ".join(f'target-counter(url(#q-question-{n}-with-a-page-number), page)'
                     for n in (20, 30, 40))
    by_url = f'.section-title::after {{ content: " " {pages}; }}'
    return html.replace("</style>", by_url + "</style>", 1), project


def render(html: str, project: Path, method: Callable[..., Any],
           monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, int]:
    calls = []

    def counted(self: Any, anchor: str, *args: Any) -> Any:
        calls.append(anchor)
        return method(self, anchor, *args)

    with monkeypatch.context() as patch:
        patch.setattr(targets, "install_linear_target_counters", lambda: True)
        patch.setattr(TargetCollector, "cache_target_page_counters", counted)
        part = render_pdf(html, name="document", base=project / "content", project=project,
                          shown="content/doc.yaml")
    return part.pdf, len(calls)


def test_the_same_bytes_as_weasyprints_own(html_and_project: tuple[str, Path],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    html, project = html_and_project
    own = weasyprints_own()
    assert own is not targets.cache_target_page_counters
    theirs, their_calls = render(html, project, own, monkeypatch)
    mine, my_calls = render(html, project, targets.cache_target_page_counters, monkeypatch)
    assert my_calls == their_calls > 100  # every anchor laid out, in every pass
    assert mine == theirs


def test_installed_over_this_weasyprint_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert targets.install_linear_target_counters()  # WeasyPrint 70: its source is known
    assert TargetCollector.cache_target_page_counters is targets.cache_target_page_counters

    def other(self: Any, *args: Any) -> None:
        """Another WeasyPrint's method."""

    monkeypatch.setattr(TargetCollector, "cache_target_page_counters", other)
    assert not targets.install_linear_target_counters()
    assert TargetCollector.cache_target_page_counters is other
