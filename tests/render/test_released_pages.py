"""Laid-out pages freed when dropped (render/released_pages.py): with the cyclic garbage collector
off, no page laid out again outlives the layout that replaced it, where with WeasyPrint's own
pagination every one does; the same bytes either way, on a document whose contents and
back-links make pages laid out again."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from weasyprint.formatting_structure import boxes

from briefing.render import released_pages
from briefing.render.pdf import render_pdf
from tests.conftest import one_layout_html, page_numbered_faq


@pytest.fixture(scope="module")
def html_and_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    return one_layout_html(tmp_path_factory.mktemp("released"),
                           page_numbered_faq("Released pages", 30, 4, (3, 5)),
                           notes_follow=True)


@pytest.fixture
def no_cyclic_collection() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def render(html: str, project: Path, own: bool,
           monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, int, int]:
    """The PDF, how many pages were laid out again, and how many of those replaced layouts
    are still alive after the render."""
    import weasyprint.layout as layout
    from weasyprint.layout import page as page_layout

    made: list[tuple[int, weakref.ref[Any]]] = []  # (page number, page), in order
    make_page = page_layout.make_page

    def tracked(*args: Any) -> Any:
        page, *rest = make_page(*args)
        assert isinstance(page, boxes.PageBox)
        made.append((args[-2], weakref.ref(page)))
        return (page, *rest)

    assert released_pages.install_released_pages()
    with monkeypatch.context() as patch:
        patch.setattr(page_layout, "make_page", tracked)
        if own:
            patch.setattr(layout, "make_all_pages", released_pages.replaced)
            patch.setattr(released_pages, "release_pages", lambda document: None)
            patch.setattr(released_pages, "install_released_pages", lambda: True)
        part = render_pdf(html, name="document", base=project / "content", project=project,
                          shown="content/doc.yaml")
    last = {number: index for index, (number, _) in enumerate(made)}
    replaced = [page for index, (number, page) in enumerate(made) if last[number] != index]
    return part.pdf, len(replaced), sum(page() is not None for page in replaced)


def test_no_page_laid_out_again_outlives_it(html_and_project: tuple[str, Path],
                                            monkeypatch: pytest.MonkeyPatch,
                                            no_cyclic_collection: None) -> None:
    html, project = html_and_project
    their_pdf, their_replaced, their_alive = render(html, project, True, monkeypatch)
    my_pdf, my_replaced, my_alive = render(html, project, False, monkeypatch)
    assert my_pdf == their_pdf
    assert my_replaced == their_replaced >= 2  # the contents and notes pages, laid out again
    assert their_alive == their_replaced  # each waits for the garbage collector
    assert my_alive == 0


def test_installed_over_this_weasyprint_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import weasyprint.layout as layout

    assert released_pages.install_released_pages()
    assert layout.make_all_pages is released_pages.make_all_pages

    def other(*args: Any) -> Iterator[Any]:
        """Another WeasyPrint's pagination."""
        yield from ()

    monkeypatch.setattr(layout, "make_all_pages", other)
    assert not released_pages.install_released_pages()
    assert layout.make_all_pages is other
