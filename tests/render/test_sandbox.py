"""Content is data, and the builder touches nothing outside the project.

Three layers are tested: what content can express (raw HTML, template syntax and link
schemes print as text), what WeasyPrint may fetch for a part (pdf.render_pdf and its fetcher,
directly, so it holds even where a content check is bypassed, as by a project's own
template or stylesheet), and what a part may carry (no embedded files, no links but web, mail
and phone). The canary file outside the project is watched by a spy on every way Python code
opens files, and the network by a loopback listener that counts connections.
"""

from __future__ import annotations

import builtins
import io
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from briefing import api
from briefing.errors import BriefingError
from briefing.jobs.pipeline import build_document
from briefing.render.fetcher import MAX_FETCH_BYTES, Refused, read_project_file
from briefing.render.pdf import render_pdf
from tests.conftest import REPO, pdftotext, write_project


def png(color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, "PNG")
    return buffer.getvalue()


class Listener:
    """A TCP server on 127.0.0.1 that only counts the connections it is offered."""

    def __init__(self) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            client.close()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.server.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    # the listener works: a direct connection is counted
    socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
    deadline = time.monotonic() + 5
    while server.connections == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.connections == 1
    server.connections = 0
    yield server
    server.close()


class OpenSpy:
    """Records every path Python code opens (builtins.open, io.open, os.open)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.paths: list[str] = []
        real_open, real_io_open, real_os_open = builtins.open, io.open, os.open

        def record(file: object) -> None:
            if isinstance(file, (str, bytes, os.PathLike)):
                self.paths.append(os.path.realpath(os.fsdecode(file)))  # type: ignore[arg-type]

        def spy_open(file: object, *args: object, **kwargs: object) -> object:
            record(file)
            return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

        def spy_io_open(file: object, *args: object, **kwargs: object) -> object:
            record(file)
            return real_io_open(file, *args, **kwargs)  # type: ignore[call-overload]

        def spy_os_open(path: object, *args: object, **kwargs: object) -> int:
            record(path)
            return real_os_open(path, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(builtins, "open", spy_open)
        monkeypatch.setattr(io, "open", spy_io_open)
        monkeypatch.setattr(os, "open", spy_os_open)

    def opened(self, path: Path) -> bool:
        return os.path.realpath(path) in self.paths


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> OpenSpy:
    return OpenSpy(monkeypatch)


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, Path]:
    """A project, and a canary file beside it (outside it)."""
    project = write_project(tmp_path / "project", {"content/doc.yaml": "title: x\n",
                                                   "content/inside.png": png("green")})
    canary = tmp_path / "canary.png"
    canary.write_bytes(png("red"))
    return project, canary


def render(project: Path, body: str, css: str = "") -> object:
    html = (f"<!DOCTYPE html><html><head><style>{css}</style></head>"
            f"<body><p>Text</p>{body}</body></html>")
    return render_pdf(html, name="body", base=project / "content", project=project,
                      shown="content/doc.yaml")


def image_count(pdf: bytes) -> int:
    reader = PdfReader(io.BytesIO(pdf))
    return sum(len(page.images) for page in reader.pages)


# --- the fetcher, under render_pdf ---------------------------------------------------------

def test_an_image_inside_the_project_is_drawn(sandbox: tuple[Path, Path], spy: OpenSpy) -> None:
    """The control: the fetcher serves project files (so the refusals below mean something)."""
    project, _ = sandbox
    part = render(project, '<img src="inside.png" style="width: 2cm">')
    assert image_count(part.pdf) == 1  # type: ignore[attr-defined]
    assert spy.opened(project / "content" / "inside.png")


@pytest.mark.parametrize("src", [
    "../../canary.png",
    "..%2F..%2Fcanary.png",
    "{canary_uri}",
    "file://localhost{canary}",
    "link-to-canary.png",
    "link-to-folder/canary.png",
])
def test_files_outside_the_project_are_never_opened(
        sandbox: tuple[Path, Path], spy: OpenSpy, src: str) -> None:
    project, canary = sandbox
    (project / "content" / "link-to-canary.png").symlink_to(canary)
    (project / "content" / "link-to-folder").symlink_to(canary.parent, target_is_directory=True)
    src = src.format(canary=canary, canary_uri=canary.as_uri())
    spy.paths.clear()
    with pytest.raises(BriefingError) as caught:
        render(project, f'<img src="{src}">')
    assert "refused to read" in str(caught.value)
    assert "outside the project" in str(caught.value)
    assert not spy.opened(canary)


SVGS = {
    # an XML external entity: the parser never resolves it (the image is drawn, empty)
    "entity.svg": ('<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY x SYSTEM "{canary_uri}">]>\n'
                   '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                   "<text>&x;</text></svg>", None),
    "image.svg": ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                  '<image href="../../canary.png" width="10" height="10"/></svg>',
                  "outside the project"),
    "remote.svg": ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                   '<image href="{remote}" width="10" height="10"/></svg>', "no network access"),
}


@pytest.mark.parametrize("svg", list(SVGS))
def test_svg_images_cannot_reach_out(sandbox: tuple[Path, Path], spy: OpenSpy,
                                     listener: Listener, svg: str) -> None:
    """An SVG inside the project is fetched, and what it refers to goes through the same
    fetcher."""
    project, canary = sandbox
    source, refusal = SVGS[svg]
    (project / "content" / svg).write_text(
        source.format(canary_uri=canary.as_uri(), remote=listener.url("s.png")),
        encoding="utf-8")
    spy.paths.clear()
    if refusal is None:
        render(project, f'<img src="{svg}">')
    else:
        with pytest.raises(BriefingError, match=refusal):
            render(project, f'<img src="{svg}">')
    assert spy.opened(project / "content" / svg)
    assert not spy.opened(canary)
    assert listener.connections == 0


@pytest.mark.parametrize("url", ["file:///dev/zero", "file:///dev/urandom", "file:///etc/passwd",
                                 "file://elsewhere/share/canary.png"])
def test_devices_and_other_machines_are_refused(sandbox: tuple[Path, Path], url: str) -> None:
    project, _ = sandbox
    started = time.monotonic()
    with pytest.raises(BriefingError, match="refused to"):
        render(project, f'<img src="{url}">')
    assert time.monotonic() - started < 20


def test_fifo_and_device_links_inside_the_project_are_refused_without_blocking(
        sandbox: tuple[Path, Path]) -> None:
    """A FIFO would block a reader until something writes to it; it is never read."""
    project, _ = sandbox
    os.mkfifo(project / "content" / "pipe.png")
    (project / "content" / "zero.png").symlink_to("/dev/zero")
    for name, reason in [("pipe.png", "not a regular file"), ("zero.png", "outside")]:
        started = time.monotonic()
        with pytest.raises(BriefingError, match=reason):
            render(project, f'<img src="{name}">')
        assert time.monotonic() - started < 20


def test_read_project_file_directly(sandbox: tuple[Path, Path]) -> None:
    project, canary = sandbox
    assert read_project_file(project / "content" / "inside.png", project) == png("green")
    with pytest.raises(Refused, match="outside the project"):
        read_project_file(canary, project)
    with pytest.raises(Refused, match="outside the project"):
        read_project_file(project / "content" / ".." / ".." / "canary.png", project)
    huge = project / "content" / "huge.png"
    with huge.open("wb") as handle:  # sparse: nothing is written, only the size is set
        handle.truncate(MAX_FETCH_BYTES + 1)
    with pytest.raises(Refused, match="larger than"):
        read_project_file(huge, project)
    with pytest.raises(FileNotFoundError):
        read_project_file(project / "content" / "missing.png", project)


def test_a_missing_file_inside_the_project_is_not_an_error(sandbox: tuple[Path, Path]) -> None:
    """Only refusals fail the part; a missing file is WeasyPrint's usual warning."""
    project, _ = sandbox
    part = render(project, '<img src="missing.png" alt="gone">')
    assert image_count(part.pdf) == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("scheme", ["http", "https", "ftp"])
def test_no_network_from_html(sandbox: tuple[Path, Path], listener: Listener,
                              scheme: str) -> None:
    project, _ = sandbox
    url = listener.url("x.png").replace("http:", f"{scheme}:", 1)
    with pytest.raises(BriefingError, match="no network access"):
        render(project, f'<img src="{url}">')
    assert listener.connections == 0


def test_no_network_from_css(sandbox: tuple[Path, Path], listener: Listener) -> None:
    project, canary = sandbox
    css = (f"@import url({listener.url('a.css')});\n"
           f"@font-face {{ font-family: Remote; src: url({listener.url('f.woff')}); }}\n"
           f"body {{ background: url({listener.url('b.png')}); font-family: Remote; }}\n"
           f"p {{ background-image: url({canary.as_uri()}); }}\n")
    with pytest.raises(BriefingError) as caught:
        render(project, "<p>styled</p>", css)
    messages = str(caught.value)
    for name in ("a.css", "f.woff", "b.png"):
        assert listener.url(name) in messages
    assert "outside the project" in messages
    assert listener.connections == 0


# --- a whole build whose project theme asks for outside things -----------------------------

def test_project_stylesheet_cannot_reach_out(tmp_path: Path, listener: Listener) -> None:
    project = write_project(tmp_path / "project", {
        "content/doc.yaml": "title: T\nsections:\n  - title: S\n    questions:\n"
                            "      - question: Q?\n        answer: A.\n",
        "styles/custom.css": f"@import url({listener.url('a.css')});\n"
                             f"body {{ background: url({listener.url('b.png')}); }}\n"
                             "h1 { background: url(../../../canary.png); }\n",
    })
    (tmp_path / "canary.png").write_bytes(png())
    with pytest.raises(BriefingError) as caught:
        build_document(project / "content" / "doc.yaml", project=project,
                           out_dir=project / "out")
    assert "no network access" in str(caught.value)
    assert listener.connections == 0
    assert not (project / "out").exists()


def test_remote_and_outside_images_in_content_are_errors(
        tmp_path: Path, listener: Listener, spy: OpenSpy) -> None:
    """In content, the Markdown check (with the line) comes first; nothing is fetched."""
    canary = tmp_path / "canary.png"
    canary.write_bytes(png())
    project = write_project(tmp_path / "project", {
        "content/doc.yaml": "title: T\nsections:\n  - title: S\n    questions:\n"
                            "      - question: Q?\n        answer: |\n"
                            f"          ![remote]({listener.url('x.png')})\n"
                            "          ![outside](../../canary.png)\n"
                            f"          ![absolute]({canary.as_uri()})\n"})
    spy.paths.clear()  # the test's own writes
    with pytest.raises(BriefingError) as caught:
        build_document(project / "content" / "doc.yaml", project=project,
                           out_dir=project / "out")
    lines = {p.line for p in caught.value.problems}
    assert {7, 8, 9} <= lines, caught.value
    assert listener.connections == 0
    assert not spy.opened(canary)


# --- content is data: one hostile document, built once ------------------------------------

HOSTILE = """\
title: Content is data {{ 7*7 }}
date: 2024-05-01
sections:
  - title: Hostile answers
    questions:
      - question: Does raw HTML pass?
        answer: |
          RAWHTML <script>alert(1)</script> and <img src=x onerror=alert(2)> and
          <a href="http://evil.example/">evil</a> and <b>bold</b>.
      - question: Are templates evaluated?
        answer: |
          TEMPLATE {{ 7*7 }} and {% for i in range(3) %}LOOP{% endfor %} and {# note #}.
      - question: Which links are live?
        answer: |
          [JSLINK](javascript:alert(1)) [UPPERJS](JaVaScRiPt:alert(1))
          [ENTITYJS](&#106;avascript:alert(1)) [FILELINK](file:///etc/passwd)
          [DATALINK](data:text/html,hi) [VBLINK](vbscript:msgbox) [XREFLINK](x-briefing:fn-1)
          [ENTXREF](x&#45;briefing:q-does-raw-html-pass) [RELLINK](secret.txt)
          [REFLINK][evil] <javascript:alert(3)>

          [WEBLINK](https://example.org/) [MAILLINK](mailto:someone@example.org)

          [evil]: javascript:alert(4)
"""

DANGEROUS_LABELS = ("JSLINK", "UPPERJS", "ENTITYJS", "FILELINK", "DATALINK", "VBLINK",
                    "XREFLINK", "ENTXREF", "RELLINK", "REFLINK")
BAD_SCHEME = re.compile(r"^\s*(javascript|vbscript|file|data|x-briefing)\s*:", re.I)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> api.Output:
    base = (REPO / "templates" / "base.html.j2").read_text(encoding="utf-8")
    override = base.replace(  # a project template that tries to attach a project file
        "</head>", '<link rel="attachment" href="secret.txt" title="x">\n</head>').replace(
        "{% block content %}{% endblock %}",
        '<a rel="attachment" href="secret.txt">ATTACHED</a>\n{% block content %}{% endblock %}')
    assert override != base
    project = write_project(tmp_path_factory.mktemp("hostile") / "project", {
        "content/doc.yaml": HOSTILE,
        "content/secret.txt": "SECRET-PROJECT-FILE\n",
        "templates/base.html.j2": override,
    })
    return build_document(project / "content" / "doc.yaml", project=project,
                              out_dir=project / "out")


def test_raw_html_and_template_syntax_print_literally(hostile: api.Output) -> None:
    text = " ".join(pdftotext(hostile.pdf).split()).replace("http:// ", "http://")
    # `typography: typeset` (the default) prints typed quotes as typographic ones
    text = text.translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\""))
    assert "<script>alert(1)</script>" in text
    assert "<img src=x onerror=alert(2)>" in text
    assert '<a href="http://evil.example/">evil</a>' in text
    assert "<b>bold</b>" in text
    assert "{{ 7*7 }}" in text and "49" not in text
    assert "{% for i in range(3) %}LOOP{% endfor %}" in text and "LOOPLOOP" not in text
    assert "Content is data {{ 7*7 }}" in text


def test_html_output_escapes_content(hostile: api.Output) -> None:
    assert hostile.html is not None
    html = hostile.html.read_text(encoding="utf-8")
    body = html.split("<body", 1)[1]
    assert "<script" not in html
    assert "onerror" not in body.replace("onerror=alert(2)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;img src=x onerror=alert(2)&gt;" in body
    assert 'href="http://evil.example/"' not in body
    assert "{{ 7*7 }}" in body and "49" not in body
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and not [h for h in hrefs if BAD_SCHEME.match(h)]
    assert 'href="https://example.org/"' in html and 'href="mailto:someone@example.org"' in html


def _word_boxes(pdf: Path) -> dict[str, list[tuple[int, float, float, float, float]]]:
    """Every word's page (0-based) and box in PDF points, origin bottom-left."""
    xhtml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True,
                           capture_output=True, text=True).stdout
    boxes: dict[str, list[tuple[int, float, float, float, float]]] = {}
    for index, page in enumerate(re.findall(r"<page (.*?)</page>", xhtml, re.S)):
        height = float(re.search(r'height="([\d.]+)"', page).group(1))  # type: ignore[union-attr]
        for x0, y0, x1, y1, word in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                r"([^<]*)</word>", page):
            boxes.setdefault(word, []).append(
                (index, float(x0), height - float(y1), float(x1), height - float(y0)))
    return boxes


def _linked(pdf: Path, label: str) -> bool:
    """Whether a link annotation covers the middle of the word `label`."""
    reader = PdfReader(pdf)
    found = [b for word, bs in _word_boxes(pdf).items() if label in word for b in bs]
    assert found, f"{label} is not in the PDF text"
    for page_index, x0, y0, x1, y1 in found:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        for ref in reader.pages[page_index].get("/Annots") or []:
            x_a, y_a, x_b, y_b = (float(v) for v in ref.get_object()["/Rect"])
            if min(x_a, x_b) <= cx <= max(x_a, x_b) and min(y_a, y_b) <= cy <= max(y_a, y_b):
                return True
    return False


def test_only_web_and_mail_links_are_live_in_the_pdf(hostile: api.Output) -> None:
    assert _linked(hostile.pdf, "WEBLINK") and _linked(hostile.pdf, "MAILLINK")
    for label in DANGEROUS_LABELS:
        assert not _linked(hostile.pdf, label), label
    reader = PdfReader(hostile.pdf)
    for page in reader.pages:
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            assert annot["/Subtype"] == "/Link"
            action = annot.get("/A")
            if action is not None:
                uri = str(action.get_object().get("/URI", ""))
                assert action.get_object()["/S"] == "/URI"
                assert uri.startswith(("https:", "http:", "mailto:", "tel:")), uri


def test_attachments_are_never_embedded(hostile: api.Output) -> None:
    """The project's template asked for a project file as an attachment, twice: the text of
    the link is printed, nothing is embedded."""
    assert "ATTACHED" in pdftotext(hostile.pdf)
    reader = PdfReader(hostile.pdf)
    names = reader.trailer["/Root"].get("/Names")
    assert names is None or "/EmbeddedFiles" not in names.get_object()
    assert "/AF" not in reader.trailer["/Root"]
    qdf = subprocess.run(["qpdf", "--qdf", "--object-streams=disable", str(hostile.pdf), "-"],
                         check=True, capture_output=True).stdout
    for needle in (b"/EmbeddedFile", b"/FileAttachment", b"/Filespec",
                   b"SECRET-PROJECT-FILE", b"file:"):
        assert needle not in qdf, needle
