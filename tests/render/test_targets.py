"""Page references (render/targets.py): the same PDF, byte for byte, as with WeasyPrint's own
methods, on a document whose contents and back-links all print pages, with fewer page layouts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from weasyprint.css.targets import TargetCollector

from briefing.render import targets
from briefing.render.pdf import render_pdf
from tests.conftest import one_layout_html, page_numbered_faq

Methods = tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]


def weasyprints_own() -> Methods:
    """WeasyPrint's own three methods, whether or not an earlier render replaced them."""
    assert targets.install_target_counters()
    own = (targets.replaced, targets.replaced_collect, targets.replaced_anchor)
    assert None not in own
    return own


REPAIRED: Methods = (targets.cache_target_page_counters, targets.collect_missing_counters,
                     targets.collect_anchor)


@pytest.fixture(scope="module")
def html_and_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """40 questions, each calling one of 8 notes: a contents of 40 page numbers, and each
    note's back-links with the page of each of its 5 calls."""
    html, project = one_layout_html(tmp_path_factory.mktemp("targets"),
                                    page_numbered_faq("Page references", 40, 8, (2, 7)),
                                    notes_follow=True)
    # The built-in references name their targets with attr(), which WeasyPrint does not
    # index by anchor; a project's stylesheet may name them with url(), which it does: the
    # section's heading here prints the pages of three questions further on.
    pages = " ".join(f'target-counter(url(#q-question-{n}-with-a-page-number), page)'
                     for n in (20, 30, 40))
    by_url = f'.section-title::after {{ content: " " {pages}; }}'
    return html.replace("</style>", by_url + "</style>", 1), project


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    anchor_calls: int  # cache_target_page_counters: every anchor laid out, in every pass
    page_layouts: int  # make_page: a page laid out again counts again


def render(html: str, project: Path, methods: Methods,
           monkeypatch: pytest.MonkeyPatch) -> Rendered:
    from weasyprint.layout import page as page_layout

    cache, collect, anchor = methods
    calls: list[str] = []
    layouts: list[int] = []
    make_page = page_layout.make_page

    def counted(self: Any, anchor: str, *args: Any) -> Any:
        calls.append(anchor)
        return cache(self, anchor, *args)

    def laid_out(*args: Any) -> Any:
        layouts.append(args[-2])
        return make_page(*args)

    with monkeypatch.context() as patch:
        patch.setattr(targets, "install_target_counters", lambda: True)
        patch.setattr(TargetCollector, "cache_target_page_counters", counted)
        patch.setattr(TargetCollector, "collect_missing_counters", collect)
        patch.setattr(TargetCollector, "collect_anchor", anchor)
        patch.setattr(page_layout, "make_page", laid_out)
        part = render_pdf(html, name="document", base=project / "content", project=project,
                          shown="content/doc.yaml")
    return Rendered(part.pdf, part.page_count, len(calls), len(layouts))


def test_the_same_bytes_as_weasyprints_own(html_and_project: tuple[str, Path],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    html, project = html_and_project
    own = weasyprints_own()
    assert not set(own) & set(REPAIRED)
    theirs = render(html, project, own, monkeypatch)
    mine = render(html, project, REPAIRED, monkeypatch)
    assert mine.pdf == theirs.pdf
    assert mine.pages == theirs.pages > 5
    assert theirs.anchor_calls > 100
    # WeasyPrint lays out every page that prints a page number three times; repaired, the
    # pages whose references were not known yet twice, and the others once
    assert theirs.page_layouts >= mine.page_layouts + 3
    assert mine.page_layouts < 2 * mine.pages


def test_only_the_target_counters_of_content_are_refiled() -> None:
    """A `counter()` beside a target counter: WeasyPrint files the missing names in whichever
    list it named last, so its own lists are kept as they are."""
    box = SimpleNamespace(style={"content": [
        ("counter()", ("page", "decimal")),
        ("target-counter()", (("string", "#a"), "page", "decimal"))]})
    assert targets._meant_missing_counters(TargetCollector(), box) is None


def test_a_guess_that_holds_lays_each_page_out_once(html_and_project: tuple[str, Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm rebuild guesses each anchor's page from the last layout of the part: where
    the guess holds, no page is laid out twice, and the bytes are those of a cold layout."""
    html, project = html_and_project
    with targets.guessed_pages(None) as laid_out:
        cold = render(html, project, REPAIRED, monkeypatch)
    assert len(laid_out) > 40  # every question's and every call's page
    with targets.guessed_pages(laid_out) as again:
        warm = render(html, project, REPAIRED, monkeypatch)
    assert warm.pdf == cold.pdf
    assert cold.page_layouts > cold.pages
    assert warm.page_layouts == warm.pages
    assert {name: found["page"] for name, found in again.items()} == {
        name: found["page"] for name, found in laid_out.items()}


def test_a_wrong_guess_costs_layouts_not_numbers(html_and_project: tuple[str, Path],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page guessed one too far (as after an edit that pushed everything on): the
    pages with references are laid out again, with the numbers of a cold layout."""
    html, project = html_and_project
    with targets.guessed_pages(None) as laid_out:
        cold = render(html, project, REPAIRED, monkeypatch)
    wrong = {name: {**values, "page": [values["page"][0] + 1]}
             for name, values in laid_out.items()}
    with targets.guessed_pages(wrong):
        warm = render(html, project, REPAIRED, monkeypatch)
    assert warm.pdf == cold.pdf
    assert warm.page_layouts > warm.pages


@pytest.mark.parametrize("name", ["cache_target_page_counters", "collect_missing_counters",
                                  "collect_anchor"])
def test_installed_over_this_weasyprint_only(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert targets.install_target_counters()  # WeasyPrint 70: its sources are known
    assert getattr(TargetCollector, name) is getattr(targets, name)

    def other(self: Any, *args: Any) -> None:
        """Another WeasyPrint's method."""

    monkeypatch.setattr(TargetCollector, name, other)
    assert not targets.install_target_counters()
    assert getattr(TargetCollector, name) is other


def test_not_installed_over_another_content_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """The collector's repair reads the faults of WeasyPrint 70's `compute_content_list`:
    another one, and WeasyPrint's own collector stays."""
    from weasyprint.formatting_structure import build

    own = weasyprints_own()[1]
    monkeypatch.setattr(TargetCollector, "collect_missing_counters", own)
    monkeypatch.setattr(build, "compute_content_list", lambda *args: None)
    assert not targets.install_target_counters()
    assert TargetCollector.collect_missing_counters is own
