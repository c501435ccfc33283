"""A laid-out page freed as soon as nothing needs it, not at the next full garbage collection.

Each page WeasyPrint lays out holds its footnote area, and the area holds its page
(`FootnoteAreaBox.page`): a reference cycle, so a page, with every box, line and text layout on
it, is freed only when Python's cyclic garbage collector next runs a full collection. Pages
are dropped twice in a build: when a page is laid out again (its earlier layout is replaced:
every one of those keeps its area), and when the document has been drawn (a page that holds
footnotes keeps its area). At 1,000 questions the first full collection after layout found
about 500,000 such objects, which had been adding to the peak memory until then: freed at
once, the peak is 469 MB instead of 506 MB.

`install_released_pages` lets WeasyPrint's pagination (`make_all_pages`) break the cycle of
each page it replaced, once it has finished with it; `release_pages` breaks it for every
page of a document that has been drawn. Nothing reads a dropped page's footnote area again.
Installed only over the sources it was written from (recognised by a digest).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from briefing.render.sources import source_digest

#: sha256 of WeasyPrint 70's `layout.make_all_pages` and `FootnoteAreaBox`
KNOWN_PAGES_SOURCE = "b5e4034894841caa9581fa5d33338c71a7d8948be65618d358ab4b946f367edb"
KNOWN_AREA_SOURCE = "44d2d15f921a53509f9efd5c94c26aa3597de64fbea065cbafe243e887721533"
_LOCK = threading.Lock()
#: WeasyPrint's own function, once replaced
replaced: Any = None


def make_all_pages(context: Any, root_box: Any, html: Any, pages: list[Any]) -> Iterator[Any]:
    """WeasyPrint 70's pagination; the pages it laid out again released once it is done."""
    earlier = list(pages)
    laid_out: list[Any] = []
    for page in replaced(context, root_box, html, pages):
        laid_out.append(page)
        yield page
    kept = {id(page) for page in laid_out}
    _release(page for page in earlier if id(page) not in kept)


def release_pages(document: Any) -> None:
    """Break the cycle of every page of a drawn document (its `Page` objects keep their
    sizes, anchors and links; their boxes go)."""
    if replaced is not None:  # the cycle is the one this module knows
        _release(page._page_box for page in document.pages)


def _release(pages: Iterable[Any]) -> None:
    from weasyprint.formatting_structure.boxes import FootnoteAreaBox

    for page in pages:
        for child in page.children:
            if isinstance(child, FootnoteAreaBox) and child.page is page:
                child.page = None


def install_released_pages() -> bool:
    """Put the pagination in place over the source it was written from; whether it is."""
    import weasyprint.layout as layout
    from weasyprint.formatting_structure.boxes import FootnoteAreaBox

    global replaced
    with _LOCK:
        current = layout.make_all_pages
        if current is make_all_pages:
            return True
        if (source_digest(current) != KNOWN_PAGES_SOURCE
                or source_digest(FootnoteAreaBox) != KNOWN_AREA_SOURCE):
            return False
        replaced = current
        layout.make_all_pages = make_all_pages
        return True
