"""The live preview: a local server that rebuilds what changed and reloads the browser.

builder.py decides what to rebuild and keeps each page's state; server.py serves the pages and
watches the files. `briefing preview` (cli.py) calls `serve`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from briefing.options import BuildOptions
from briefing.preview.builder import PageState, PreviewBuilder
from briefing.preview.server import PreviewServer


def preview_server(project: Path, *, options: BuildOptions | None = None,
                   host: str = "127.0.0.1", port: int = 8000,
                   first: str | None = None, out_dir: Path | None = None) -> PreviewServer:
    """A server for `project`, not yet started. Its outputs go to `out_dir` (default: a new
    temporary folder), never to the project's `out/`, which stays what `build` made."""
    out = out_dir or Path(tempfile.mkdtemp(prefix="briefing-preview-"))
    builder = PreviewBuilder(project=project, out_dir=out, options=options or BuildOptions())
    return PreviewServer(builder, host=host, port=port, first=first)


__all__ = ["PageState", "PreviewBuilder", "PreviewServer", "preview_server"]
