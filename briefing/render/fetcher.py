"""The only way a rendered part reads anything: files inside the project and `data:` URLs.

WeasyPrint fetches images, fonts and stylesheets through a url_fetcher; this one serves regular
files inside the project and nothing else (no network, no file outside, no device, no FIFO).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from briefing.source.files import Refused, read_inside

__all__ = ["MAX_FETCH_BYTES", "Refused", "project_fetcher", "read_project_file"]

#: the largest file a part may read (an image, a font, a stylesheet of the project)
MAX_FETCH_BYTES = 64 * 1024 * 1024


def read_project_file(path: Path, project: Path) -> bytes:
    """The bytes of a regular file inside the project, or Refused (see source/files.py).

    A missing file is FileNotFoundError, which WeasyPrint reports as a warning, like any
    missing image.
    """
    return read_inside(path, project, limit=MAX_FETCH_BYTES,
                       shown=_relative(path, project.resolve()))


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
                raise Refused(url, "no network access, only files inside the project", "fetch")
            parts = urlsplit(url)
            if parts.netloc not in ("", "localhost"):
                raise Refused(url, "a file on another machine", "fetch")
            return URLFetcherResponse(
                url, read_project_file(Path(unquote(parts.path)), self.project))

    return ProjectFetcher


def project_fetcher(project: Path) -> Any:
    """WeasyPrint's url_fetcher for the parts of a document in `project`."""
    return _fetcher_class()(project)
