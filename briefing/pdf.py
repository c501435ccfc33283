"""Stage 5: one HTML part becomes a PDF with WeasyPrint, plus where each anchor landed.

The anchors (page and position of every element with an id) are what lets the assembler link
across separately rendered parts and build the outline of the merged file.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import BriefingError, Problem
from .limits import TIME_LIMIT_ENV, TimeLimitExceeded, time_limit, time_limit_for
from .markdown import XREF_SCHEME

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


#: the largest file a part may read (an image, a font, a stylesheet of the project)
MAX_FETCH_BYTES = 64 * 1024 * 1024
#: link targets kept as live links in a PDF part; `x-briefing:` links are the templates'
#: own cross-part references (content cannot write them: see markdown.py), resolved on assembly
LINK_SCHEMES = ("http", "https", "mailto", "tel", XREF_SCHEME)


class Refused(ValueError):
    """A part asked for something outside the project: the build fails (see render_pdf)."""


def read_project_file(path: Path, project: Path) -> bytes:
    """The bytes of a regular file inside the project, or Refused.

    The check is on the resolved path, so a symlink in the project cannot reach out of it; the
    file is then opened without following a symlink (O_NOFOLLOW: one swapped in after the check
    is refused) and without blocking (O_NONBLOCK: a FIFO would otherwise wait for a writer),
    and whatever is open must be a regular file: no FIFOs, sockets or devices. A missing file
    is FileNotFoundError, which WeasyPrint reports as a warning, like any missing image.
    """
    root = project.resolve()
    resolved = path.resolve()
    shown = _relative(path, root)
    if resolved != root and root not in resolved.parents:
        raise Refused(f"refused to read {shown}: outside the project")
    flags = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
             | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    try:
        fd = os.open(resolved, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise Refused(f"refused to read {shown}: {exc.strerror or exc}") from None
    too_big = f"refused to read {shown}: larger than {MAX_FETCH_BYTES // 1024 // 1024} MB"
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f"refused to read {shown}: not a regular file")
        if info.st_size > MAX_FETCH_BYTES:
            raise Refused(too_big)
        data = handle.read(MAX_FETCH_BYTES + 1)
    if len(data) > MAX_FETCH_BYTES:
        raise Refused(too_big)
    return data


def _relative(path: Path, root: Path) -> str:
    """A path as the project's user sees it: from the project folder when it starts there."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _fetcher_class() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ProjectFetcher(URLFetcher):  # type: ignore[misc]
        """Serves files inside the project and `data:` URLs, nothing else: no network (http,
        https, ftp...), no file outside the project, no device. What it refused is kept in
        `refused`: WeasyPrint only logs a failed fetch, render_pdf turns it into an error."""

        def __init__(self, project: Path):
            super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
            self.project = project.resolve()
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            try:
                return self._fetch(url, headers)
            except Refused as exc:
                self.refused.append(str(exc))
                raise

        def _fetch(self, url: str, headers: Any) -> Any:
            scheme = url.split(":", 1)[0].strip().lower() if ":" in url else ""
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme != "file":
                raise Refused(f"refused to fetch {url}: no network access, only files inside "
                              f"the project")
            parts = urlsplit(url)
            if parts.netloc not in ("", "localhost"):
                raise Refused(f"refused to fetch {url}: a file on another machine")
            return URLFetcherResponse(
                url, read_project_file(Path(unquote(parts.path)), self.project))

    return ProjectFetcher


def project_fetcher(project: Path) -> Any:
    """WeasyPrint's url_fetcher for the parts of a document in `project`."""
    return _fetcher_class()(project)


def _neutralise(document: Any) -> None:
    """What a part may not carry, whatever its HTML says (a project's template included):
    embedded files (`<link rel=attachment>`, `<a rel=attachment>`), and live links that are
    not web, mail or phone links (`javascript:`, `file:`, a relative link resolved to a path
    on the builder's disk). The text of a dropped link is still printed."""
    document.metadata.attachments = []
    for page in document.pages:
        page.links = [
            link for link in page.links
            if link[0] == "internal" or (link[0] == "external" and _live_link(str(link[1])))
        ]


def _live_link(url: str) -> bool:
    scheme = url.split(":", 1)[0].strip().lower() if ":" in url else ""
    return scheme in LINK_SCHEMES


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
    fetcher = project_fetcher(project)
    limit = time_limit_for(len(html))
    try:
        with _collect_weasyprint_warnings() as collector, time_limit(limit):
            source = weasyprint.HTML(
                string=html, base_url=base.resolve().as_uri() + "/", url_fetcher=fetcher
            )
            document = source.render()
            _neutralise(document)
            pdf = document.write_pdf(pdf_tags=tagged, attachments=None)
    except TimeLimitExceeded:
        raise BriefingError.at(shown, None, (
            f"{name}: laying out took longer than {limit or 0:.0f} s and was stopped; look "
            f"for a very large table, or extreme sizes in the project's styles/ and "
            f"templates/ (the limit is set with {TIME_LIMIT_ENV}=seconds)")) from None
    except BriefingError:
        raise
    except Exception as exc:
        LOG.debug("%s: WeasyPrint failed on the %s", shown, name, exc_info=True)
        raise BriefingError.at(shown, None, (
            f"{name}: could not be laid out ({type(exc).__name__}: {exc}); look for extreme "
            f"sizes in the project's styles/ and templates/")) from exc
    if fetcher.refused:
        raise BriefingError(Problem(shown, None, f"{name}: {message}")
                            for message in dict.fromkeys(fetcher.refused))
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
