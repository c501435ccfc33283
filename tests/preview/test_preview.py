"""`briefing preview` over HTTP: rebuilt on save, only what changed, problems shown and gone.

The server and its watcher run for real in this process; the test is the browser's side: it
long-polls the state endpoint as the page's script does and fetches the pages.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from briefing.preview import PreviewServer, preview_server

from conftest import MINIMAL, pdftotext, write_project

TEMPLATE = """\
{% extends "base.html.j2" %}
{% block content %}<div id="cover"><h1>{{ doc.title }}</h1></div>{% endblock %}
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PreviewServer]:
    project = write_project(tmp_path_factory.mktemp("preview"), {
        "content/brief.yaml": MINIMAL,
        "content/other.yaml": MINIMAL.replace("A small briefing", "Another briefing"),
        "templates/cover.html.j2": TEMPLATE,
        "content/packs/pack.yaml": "title: The pack\nitems:\n  - document: ../brief.yaml\n",
    })
    server = preview_server(project, port=0, out_dir=tmp_path_factory.mktemp("preview-out"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def get(server: PreviewServer, path: str) -> str:
    with urllib.request.urlopen(server.url.rstrip("/") + path, timeout=30) as response:
        return str(response.read().decode("utf-8"))


def state(server: PreviewServer, name: str, version: int = -1, pdf: int = -1) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        get(server, f"/_preview/state?name={name}&version={version}&pdf_version={pdf}"))
    return found


def edit_and_wait(server: PreviewServer, path: Path, text: str, name: str = "brief",
                  pdf_too: bool = True, problem: str | None = None) -> dict[str, Any]:
    """Save `text` and wait, as the page does, for the page (and the PDF) to be rebuilt
    without problems, or with `problem` for a rebuild that shows a problem containing it.

    A save is not atomic (`write_text` truncates, then writes), so the watcher may build the
    empty file first: the states on the way are skipped, not taken for the answer."""
    before = state(server, name)
    path.write_text(text, encoding="utf-8")
    deadline = time.monotonic() + 60
    now = before
    while time.monotonic() < deadline:
        now = state(server, name, now["version"], now["pdf_version"])
        if now["version"] == before["version"]:
            continue
        if problem is not None:
            if any(problem in str(p) for p in now["problems"]):
                return now
        elif not now["problems"] and (not pdf_too or now["pdf_version"] != before["pdf_version"]):
            return now
    raise AssertionError(f"no rebuild as expected after saving {path}; last state: {now}")


def test_the_root_opens_the_first_document(served: PreviewServer) -> None:
    page = get(served, "/")
    assert "A small briefing" in page
    assert 'id="briefing-preview-bar"' in page and "/_preview/state" in page
    assert 'id="briefing-preview-overlay"' not in page


def test_an_edit_is_served_and_only_its_body_is_laid_out_again(served: PreviewServer) -> None:
    source = served.builder.project / "content" / "brief.yaml"
    other = served.builder.state("other")
    assert other is not None
    parts_before = len(served.builder.part_cache)
    pack = state(served, "packs/pack")
    edit_and_wait(served, source, MINIMAL.replace("made in a test", "made in a preview"))
    assert "made in a preview" in get(served, "/brief.html")
    # the pack that holds the document follows
    deadline = time.monotonic() + 60
    while state(served, "packs/pack")["pdf_version"] == pack["pdf_version"]:
        assert time.monotonic() < deadline, "the pack was not rebuilt"
        state(served, "packs/pack", pack["version"], pack["pdf_version"])
    # two parts are new: the document's body and the pack's; covers, notes, contents and
    # running heads were reused
    assert len(served.builder.part_cache) == parts_before + 2
    after = served.builder.state("other")
    assert after is not None and after.version == other.version  # not rebuilt
    pdf = urllib.request.urlopen(served.url + "brief.pdf", timeout=30).read()
    assert pdf.startswith(b"%PDF")
    assert "briefing-preview-pdf" in get(served, "/brief/pdf")
    assert 'id="briefing-preview-pdf"' in get(served, "/packs/pack/pdf")
    copy = urllib.request.urlopen(served.url + "packs/pack.pdf", timeout=30).read()
    assert copy.startswith(b"%PDF") and copy != pdf
    packed = served.builder.state("packs/pack")
    assert packed is not None and packed.pdf is not None
    assert "made in a preview" in pdftotext(packed.pdf)


def test_a_yaml_error_is_an_overlay_with_its_line_then_goes(served: PreviewServer) -> None:
    source = served.builder.project / "content" / "brief.yaml"
    broken = MINIMAL.replace("      - question: What is this?",
                             "      - question: What is this?\n    bad: [")
    now = edit_and_wait(served, source, broken, problem="YAML syntax error")
    problems = now["problems"]
    assert problems
    assert re.search(r"brief\.yaml:8: YAML syntax error", str(problems[0]))
    page = get(served, "/brief.html")
    assert 'id="briefing-preview-overlay"' in page
    assert re.search(r"brief\.yaml:8: YAML syntax error", page)
    assert "A small briefing" in page  # the last good page is still under the overlay
    now = edit_and_wait(served, source, MINIMAL)
    assert now["problems"] == []
    assert 'id="briefing-preview-overlay"' not in get(served, "/brief.html")


def test_a_template_error_is_an_overlay_with_the_template_line(served: PreviewServer) -> None:
    template = served.builder.project / "templates" / "cover.html.j2"
    now = edit_and_wait(served, template, TEMPLATE.replace("{{ doc.title }}", "{{ doc.title }"),
                        problem="templates/cover.html.j2:2: template: ")
    assert any("templates/cover.html.j2:2: template: " in str(p) for p in now["problems"])
    assert 'id="briefing-preview-overlay"' in get(served, "/brief.html")
    now = edit_and_wait(served, template, TEMPLATE)
    assert now["problems"] == []


def test_only_the_address_it_listens_on_is_answered(served: PreviewServer) -> None:
    request = urllib.request.Request(served.url + "brief.html", headers={"Host": "evil.test"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 403
    assert served.host == "127.0.0.1"
