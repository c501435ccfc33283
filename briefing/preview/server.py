"""`briefing preview`: a local web server that shows each document as you edit it.

Three threads: the HTTP server (stdlib, one thread per request), a watcher (watchfiles) that
calls the builder when files change, and the main thread waiting for Ctrl-C. The page served
carries a small script that long-polls `/_preview/state`: the server answers as soon as the
page's version changes, and the script reloads the page (or, on the PDF view, only the PDF).
Problems are drawn into the page as an overlay with their `path:line`, over the last good
version of the page, and go away with the save that fixes them.

It listens on the loopback interface unless told otherwise, and only answers requests whose
`Host` is the address it listens on (so a web page elsewhere cannot read it through a DNS
name pointed at 127.0.0.1).
"""

from __future__ import annotations

import html
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from briefing.errors import printable
from briefing.preview.builder import PageState, PreviewBuilder

LOG = logging.getLogger("briefing.preview")
#: how long one long poll waits for a change before answering "no change"
POLL_SECONDS = 15.0
#: time given to the watcher to set up before start() returns
WATCH_SETTLE_SECONDS = 0.5

_SCRIPT = """
<script>
(function () {
  var name = %(name)s, version = %(version)d, pdfVersion = %(pdf_version)d, view = %(view)s;
  function poll() {
    fetch("/_preview/state?name=" + encodeURIComponent(name) + "&version=" + version +
          "&pdf_version=" + pdfVersion, {cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.version !== version) { location.reload(); return; }
        if (s.pdf_version !== pdfVersion) {
          pdfVersion = s.pdf_version;
          var frame = document.getElementById("briefing-preview-pdf");
          if (frame) { frame.src = "/" + name + ".pdf?v=" + pdfVersion; }
          var status = document.getElementById("briefing-preview-status");
          if (status) { status.textContent = s.status; }
        }
        poll();
      })
      .catch(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
</script>
"""

_STYLE = """
<style>
#briefing-preview-bar { position: fixed; top: 0; right: 0; z-index: 2147483646;
  font: 13px/1.4 "Noto Sans", "DejaVu Sans", sans-serif; background: #1d232b; color: #fff;
  padding: 4px 10px; border-bottom-left-radius: 6px; opacity: 0.9; }
#briefing-preview-bar a { color: #9fd3ff; margin-left: 8px; }
#briefing-preview-status { margin-left: 12px; color: #c9d3dc; }
#briefing-preview-overlay { position: fixed; inset: 0; z-index: 2147483647;
  background: rgba(20, 10, 10, 0.86); color: #fff; padding: 40px; overflow: auto;
  font: 15px/1.5 "DejaVu Sans Mono", monospace; }
#briefing-preview-overlay h2 { font: bold 20px "Noto Sans", "DejaVu Sans", sans-serif;
  color: #ff8a80; margin: 0 0 16px; }
#briefing-preview-overlay .warning { color: #ffe082; }
body.briefing-preview-pdf { margin: 0; }
#briefing-preview-pdf { border: 0; width: 100vw; height: 100vh; display: block; }
</style>
"""


def _bar(page: PageState, names: list[str], view: str) -> str:
    links = [f'<a href="/{html.escape(page.name)}/pdf">PDF</a>']
    if not page.name.startswith("packs/"):
        links.insert(0, f'<a href="/{html.escape(page.name)}.html">page</a>')
    others = [f'<a href="/{html.escape(n)}.html">{html.escape(n)}</a>'
              for n in names if n != page.name]
    return (f'<div id="briefing-preview-bar">briefing preview · {html.escape(page.name)} '
            f'({view}){"".join(links)}{" · " if others else ""}{"".join(others)} '
            f'<span id="briefing-preview-status">{html.escape(_status(page))}</span></div>')


def _status(page: PageState) -> str:
    if page.building:
        return "building…"
    if page.pdf is None:
        return "no PDF yet"
    return f"page {page.page_seconds:.2f} s, PDF {page.pdf_seconds:.2f} s"


def overlay(page: PageState) -> str:
    """The problems over the page: the same `path:line: message` lines `briefing check`
    prints. Warnings alone do not cover the page; they are listed in the bar's title."""
    errors = [p for p in page.problems if p.is_error]
    if not errors:
        return ""
    lines = "\n".join(
        f'<div class="{"warning" if not p.is_error else "error"}">{html.escape(str(p))}</div>'
        for p in page.problems)
    return (f'<div id="briefing-preview-overlay" role="alert"><h2>{len(errors)} problem'
            f'{"s" if len(errors) != 1 else ""}: the page shows the last version that built'
            f'</h2>{lines}</div>')


def decorate(page: PageState, names: list[str], view: str = "page") -> str:
    """The page as served: the document's HTML (or the PDF viewer) with the bar, the
    overlay and the reloading script added before `</body>`."""
    script = _SCRIPT % {"name": json.dumps(page.name), "version": page.version,
                        "pdf_version": page.pdf_version, "view": json.dumps(view)}
    extra = _STYLE + _bar(page, names, view) + overlay(page) + script
    if view == "pdf":
        body = (f'<iframe id="briefing-preview-pdf" title="PDF" '
                f'src="/{html.escape(page.name)}.pdf?v={page.pdf_version}"></iframe>'
                if page.pdf else "<p>The PDF is being built…</p>")
        return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>'
                f'{html.escape(page.name)} (PDF)</title></head>'
                f'<body class="briefing-preview-pdf">{body}{extra}</body></html>')
    source = page.html or (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>'
                           f'{html.escape(page.name)}</title></head><body></body></html>')
    at = source.rfind("</body>")
    return source[:at] + extra + source[at:] if at >= 0 else source + extra


@dataclass
class PreviewServer:
    """The preview's server and watcher. `start()` returns at once; `url` is where to go."""

    builder: PreviewBuilder
    host: str = "127.0.0.1"
    port: int = 8000
    first: str | None = None
    httpd: ThreadingHTTPServer | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    on_rebuild: Callable[[list[str]], None] | None = None
    _changes: set[Path] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pending: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        assert self.httpd is not None
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.httpd.server_address[1]}/"

    def start(self) -> None:
        self.builder.rebuild()
        self.builder.build_pending()
        self.httpd = ThreadingHTTPServer((self.host, self.port), _handler(self))
        self.httpd.daemon_threads = True
        serving = threading.Thread(target=self.httpd.serve_forever, name="preview-http",
                                   daemon=True)
        watching = threading.Thread(target=self._watch, name="preview-watch", daemon=True)
        rebuilding = threading.Thread(target=self._rebuild_loop, name="preview-build",
                                      daemon=True)
        pdfs = threading.Thread(target=self._pdf_loop, name="preview-pdf", daemon=True)
        self.threads = [serving, watching, rebuilding, pdfs]
        for thread in self.threads:
            thread.start()
        # watchfiles sets up its watches on the first step of the generator, in the thread,
        # and says nothing when done: a save in the first moments could go unseen
        time.sleep(WATCH_SETTLE_SECONDS)

    def stop(self) -> None:
        self.stop_event.set()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
        for thread in self.threads:
            thread.join(timeout=5)

    def _watch(self) -> None:
        """Collects changes for the rebuilding thread, and tells a rebuild under way to stop
        after its current part, so a save never waits for a whole pack."""
        from watchfiles import DefaultFilter, watch

        out = self.builder.project / "out"
        files = DefaultFilter(ignore_paths=[str(out), str(self.builder.out_dir)])
        for changes in watch(self.builder.project, watch_filter=files,
                             stop_event=self.stop_event, debounce=400, step=20,
                             yield_on_timeout=False, raise_interrupt=False):
            with self._lock:
                self._changes.update(Path(path) for _, path in changes)
            self._pending.set()

    def _rebuild_loop(self) -> None:
        while not self.stop_event.is_set():
            if not self._pending.wait(timeout=0.5):
                continue
            with self._lock:
                changed, self._changes = self._changes, set()
                self._pending.clear()
            LOG.info("changed: %s", ", ".join(sorted({p.name for p in changed})))
            try:
                rebuilt = self.builder.rebuild(changed)
            except Exception:  # never stop watching
                LOG.exception("preview rebuild failed")
                continue
            failed = [n for n in rebuilt if (page := self.builder.state(n)) is not None
                      and any(p.is_error for p in page.problems)]
            if self.on_rebuild is not None and failed:
                self.on_rebuild(failed)

    def _pdf_loop(self) -> None:
        """The PDFs and packs, in a thread of their own (see PreviewBuilder.build_pending)."""
        while not self.stop_event.is_set():
            if not self.builder.queued.wait(timeout=0.5):
                continue
            try:
                built = self.builder.build_pending()
            except Exception:
                LOG.exception("preview PDF build failed")
                continue
            if self.on_rebuild is not None and built:
                self.on_rebuild(built)

    def names(self) -> list[str]:
        return list(self.builder.pages)


def _handler(server: PreviewServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            LOG.debug("%s " + format, self.address_string(), *args)

        def do_GET(self) -> None:
            if not self._host_allowed():
                self._send(HTTPStatus.FORBIDDEN, b"wrong Host header\n", "text/plain")
                return
            url = urlsplit(self.path)
            path = url.path
            names = server.names()
            if path == "/":
                first = server.first if server.first in names else next(iter(names), None)
                if first is None:
                    self._send(HTTPStatus.OK, b"<p>No documents in content/ yet.</p>",
                               "text/html; charset=utf-8")
                    return
                self.send_response(HTTPStatus.FOUND)
                self.send_header("Location", f"/{first}.html")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if path == "/_preview/state":
                self._state(parse_qs(url.query))
                return
            name, _, kind = path.strip("/").rpartition(".")
            if path.endswith("/pdf"):
                name, kind = path.strip("/")[: -len("/pdf")], "view"
            page = server.builder.state(name)
            if page is None:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
                return
            if kind == "html" and page.html is None and name.startswith("packs/"):
                kind = "view"  # a pack has no web page: its first copy's PDF
            if kind == "html":
                self._send(HTTPStatus.OK, decorate(page, names).encode("utf-8"),
                           "text/html; charset=utf-8")
            elif kind == "view":
                self._send(HTTPStatus.OK, decorate(page, names, "pdf").encode("utf-8"),
                           "text/html; charset=utf-8")
            elif kind == "pdf" and page.pdf is not None and page.pdf.is_file():
                self._send(HTTPStatus.OK, page.pdf.read_bytes(), "application/pdf")
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

        def _state(self, query: dict[str, list[str]]) -> None:
            name = query.get("name", [""])[0]
            try:
                version = int(query.get("version", ["-1"])[0])
                pdf_version = int(query.get("pdf_version", ["-1"])[0])
            except ValueError:
                version = pdf_version = -1
            page = server.builder.wait(name, version, pdf_version, POLL_SECONDS)
            if page is None:
                self._send(HTTPStatus.NOT_FOUND, b"{}", "application/json")
                return
            body = json.dumps({
                "version": page.version, "pdf_version": page.pdf_version,
                "status": _status(page),
                "problems": [printable(str(p)) for p in page.problems],
            }).encode("utf-8")
            self._send(HTTPStatus.OK, body, "application/json")

        def _host_allowed(self) -> bool:
            if server.host in ("0.0.0.0", "::"):  # asked to serve every address
                return True
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
            return host in {"localhost", "127.0.0.1", "::1", server.host.lower()}

        def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the browser went away (a reload): nothing to do

    return Handler
