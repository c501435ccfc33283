"""The only way a rendered part reads anything: files inside the project and `data:` URLs.

WeasyPrint fetches images, fonts and stylesheets through a url_fetcher; this one serves regular
files inside the project and nothing else (no network, no file outside, no device, no FIFO).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

#: the largest file a part may read (an image, a font, a stylesheet of the project)
MAX_FETCH_BYTES = 64 * 1024 * 1024


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
