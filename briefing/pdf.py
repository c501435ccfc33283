"""Stage 5: one HTML part becomes a PDF with WeasyPrint, plus where each anchor landed.

The anchors (page and position of every element with an id) are what lets the assembler link
across separately rendered parts and build the outline of the merged file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import Problem

PX_TO_PT = 0.75
LOG = logging.getLogger("briefing")


@dataclass(frozen=True)
class Anchor:
    """A position in PDF user space (points, origin at the bottom left) on a part's page."""

    page: int
    x: float
    y: float


@dataclass(frozen=True)
class RenderedPart:
    name: str
    pdf: bytes
    page_sizes: tuple[tuple[float, float], ...]
    anchors: dict[str, Anchor] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()
    #: tagged parts: the text of each page's link annotations, in order (see structure.py)
    link_texts: tuple[tuple[str, ...], ...] = ()

    @property
    def page_count(self) -> int:
        return len(self.page_sizes)


def _fetcher_class() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ProjectFetcher(URLFetcher):  # type: ignore[misc]
        """Serves files inside the project and nothing else: no network, no other files."""

        def __init__(self, project: Path):
            super().__init__(allowed_protocols=("file", "data"))
            self.project = project.resolve()

        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme != "file":
                raise ValueError(f"refused to fetch {url!r}: only files inside the project")
            path = Path(unquote(urlsplit(url).path)).resolve()
            if not (path == self.project or self.project in path.parents):
                raise ValueError(f"refused to read {path}: outside the project")
            if not path.is_file():
                raise ValueError(f"refused to read {path}: not a regular file")
            return URLFetcherResponse(url, path.read_bytes())

    return ProjectFetcher


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _collect_weasyprint_warnings() -> Iterator[_Collector]:
    collector = _Collector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)


def render_pdf(html: str, *, name: str, base: Path, project: Path, shown: str,
               tagged: bool = False, artifact: bool = False) -> RenderedPart:
    """Lay out and write one part; WeasyPrint is imported here so `check` never pays for it.

    `tagged` writes a structure tree (PDF/UA); `artifact` marks all of the part's content as
    pagination artifacts (running headers and footers stamped onto tagged pages)."""
    import weasyprint

    from .scripts import install_actual_text

    install_actual_text()  # extracted Khmer text equals the source (see scripts.py)
    LOG.info("%s: rendering %s", shown, name)
    fetcher = _fetcher_class()(project)
    with _collect_weasyprint_warnings() as collector:
        source = weasyprint.HTML(
            string=html, base_url=base.resolve().as_uri() + "/", url_fetcher=fetcher
        )
        document = source.render()
        pdf = document.write_pdf(pdf_tags=tagged)
    link_texts: tuple[tuple[str, ...], ...] = ()
    if tagged or artifact:
        from .structure import link_texts as texts_of_links
        from .structure import mark_as_artifact

        link_texts = texts_of_links(source.etree_element, document.pages) if tagged else ()
        pdf = mark_as_artifact(pdf) if artifact else pdf
    sizes = tuple((p.width * PX_TO_PT, p.height * PX_TO_PT) for p in document.pages)
    anchors: dict[str, Anchor] = {}
    for index, page in enumerate(document.pages):
        height = page.height * PX_TO_PT
        for anchor, (x, y, *_) in page.anchors.items():
            anchors.setdefault(anchor, Anchor(index, x * PX_TO_PT, height - y * PX_TO_PT))
    warnings = tuple(
        Problem(shown, None, f"{name}: {message}", "warning") for message in collector.messages
    )
    return RenderedPart(name=name, pdf=pdf, page_sizes=sizes, anchors=anchors, warnings=warnings,
                        link_texts=link_texts)
