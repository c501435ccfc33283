"""The preview in a real browser: headless Chromium (Debian's `chromium`), driven over the
DevTools protocol. Nothing is mocked: `briefing preview` runs as a user starts it, the page's
own script reloads it, and the test only reads what the browser shows."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import MINIMAL, write_project

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                "(scripts/system-deps.sh test installs it)")
websocket = pytest.importorskip("websocket")

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--remote-debugging-port=0"]


def wait_for(what: Callable[[], Any], seconds: float = 60, message: str = "") -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message or what}")


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """`briefing preview` on a free port, as a user starts it; its address."""
    project = write_project(tmp_path_factory.mktemp("browser"), {"content/brief.yaml": MINIMAL})
    process = subprocess.Popen(
        [sys.executable, "-m", "briefing", "preview", "--port", "0"], cwd=project,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stderr is not None
    line = process.stderr.readline()
    found = re.search(r"Preview at (http://\S+)", line)
    assert found, line
    try:
        yield project, found.group(1)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


class Browser:
    """One page of headless Chromium, read with Runtime.evaluate."""

    def __init__(self, profile: Path, url: str):
        assert CHROMIUM is not None
        self.process = subprocess.Popen(
            [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        active = profile / "DevToolsActivePort"
        wait_for(lambda: active.is_file() and len(active.read_text().split()) >= 2, 60,
                 "Chromium's DevTools port")
        port = active.read_text().split()[0]

        def page_target() -> str | None:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                targets = json.load(r)
            pages = [t for t in targets if t.get("type") == "page" and "webSocketDebuggerUrl" in t]
            return pages[0]["webSocketDebuggerUrl"] if pages else None

        self.socket = websocket.create_connection(wait_for(page_target, 30, "a page"),
                                                  timeout=30, suppress_origin=True)
        self.ids = 0

    def evaluate(self, expression: str) -> Any:
        self.ids += 1
        self.socket.send(json.dumps({"id": self.ids, "method": "Runtime.evaluate",
                                     "params": {"expression": expression,
                                                "returnByValue": True}}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.ids:
                return message.get("result", {}).get("result", {}).get("value")

    def text(self) -> str:
        return str(self.evaluate("document.body ? document.body.innerText : ''") or "")

    def overlay(self) -> str:
        return str(self.evaluate(
            "(document.getElementById('briefing-preview-overlay') || {}).innerText || ''"))

    def close(self) -> None:
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture(scope="module")
def browser(preview: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Browser]:
    opened = Browser(tmp_path_factory.mktemp("chromium-profile"), preview[1])
    try:
        yield opened
    finally:
        opened.close()


def test_the_page_follows_edits_and_shows_problems(preview: tuple[Path, str],
                                                   browser: Browser) -> None:
    project, _ = preview
    source = project / "content" / "brief.yaml"
    wait_for(lambda: "What is this?" in browser.text(), 60, "the page")
    assert browser.evaluate("location.pathname") == "/brief.html"
    marker = browser.evaluate("window.briefingMarker = 'not reloaded'; window.briefingMarker")
    assert marker == "not reloaded"

    # an edit: the new text appears without anyone reloading the page
    source.write_text(MINIMAL.replace("What is this?", "What is this, really?"),
                      encoding="utf-8")
    wait_for(lambda: "What is this, really?" in browser.text(), 60, "the edited text")
    assert browser.evaluate("window.briefingMarker || ''") == ""  # the page reloaded itself

    # broken YAML: an overlay with the file and line, over the last good page
    source.write_text(MINIMAL.replace("  - title: Questions", "  - title: [Questions"),
                      encoding="utf-8")
    shown = wait_for(browser.overlay, 60, "the overlay")
    assert re.search(r"brief\.yaml:\d+: YAML syntax error", shown), shown
    assert "What is this, really?" in browser.text()

    # fixed: the overlay goes and the page is back, with the fix in it
    source.write_text(MINIMAL.replace("What is this?", "What is this, fixed?"),
                      encoding="utf-8")
    wait_for(lambda: "What is this, fixed?" in browser.text(), 60, "the fixed page")
    assert browser.overlay() == ""
