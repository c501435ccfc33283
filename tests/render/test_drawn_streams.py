"""A drawn page's content stream compressed at once (render/drawn_streams.py): the same PDF,
byte for byte, as with WeasyPrint's own `Page.paint`, tagged (PDF/UA: marked content on every
page) and not, on a document with links and footnotes at the foot of the page; each page's
stream is one compressed item once drawn; installed over these sources only."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import pytest
from weasyprint import document as weasyprint_document

from briefing.render import drawn_streams
from briefing.render.pdf import render_pdf
from tests.conftest import installed_over_its_source_only, one_layout_html, page_numbered_faq


@pytest.fixture(scope="module")
def html_and_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    return one_layout_html(tmp_path_factory.mktemp("streams"),
                           page_numbered_faq("Drawn streams", 12, 3, (3, 4)), page_notes=True)


def render(html: str, project: Path, paint: Any, tagged: bool,
           monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, list[list[Any]]]:
    """The PDF, and each page's stream items once its `paint` returned."""
    painted: list[list[Any]] = []

    def kept(self: Any, stream: Any, scale: float = 1) -> None:
        paint(self, stream, scale)
        painted.append(list(stream.stream))

    with monkeypatch.context() as patch:
        patch.setattr(drawn_streams, "install_drawn_streams", lambda: True)
        patch.setattr(weasyprint_document.Page, "paint", kept)
        part = render_pdf(html, name="document", base=project / "content", project=project,
                          shown="content/doc.yaml", tagged=tagged)
    return part.pdf, painted


@pytest.mark.parametrize("tagged", [False, True], ids=["plain", "tagged"])
def test_the_same_bytes_as_weasyprints_own(html_and_project: tuple[str, Path], tagged: bool,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    html, project = html_and_project
    assert drawn_streams.install_drawn_streams()
    own, mine = drawn_streams.replaced_paint, drawn_streams.paint
    assert own is not mine
    their_pdf, their_pages = render(html, project, own, tagged, monkeypatch)
    my_pdf, my_pages = render(html, project, mine, tagged, monkeypatch)
    assert my_pdf == their_pdf
    assert len(my_pages) == len(their_pages) >= 4
    # WeasyPrint's: tens to hundreds of items a page until the file is written; here one,
    # compressed
    assert min(len(items) for items in their_pages) > 20
    assert max(len(items) for items in their_pages) > 200
    assert all(len(items) == 1 for items in my_pages)
    operators = zlib.decompress(my_pages[1][0])
    assert b" Tf" in operators and (b"BDC" in operators) == tagged


def test_installed_over_these_sources_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert drawn_streams.install_drawn_streams()
    installed_over_its_source_only(drawn_streams.install_drawn_streams, weasyprint_document.Page,
                                   "paint", drawn_streams.replaced_paint, drawn_streams.paint,
                                   monkeypatch)
