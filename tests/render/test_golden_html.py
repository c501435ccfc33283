"""Golden output: the web page of a small document, compared ignoring whitespace.

Regenerate after an intended change with: BRIEFING_REGENERATE_GOLDEN=1 make test
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from briefing.render.html import page_html
from briefing.render.theme import theme_for
from briefing.source.prepare import prepare

from conftest import TESTS, write_project

GOLDEN = TESTS / "golden" / "features.html"

FEATURES = """\
title: Features & “quotes”
subtitle: Everything the format can say
audience: Partners
organisation: Example Org
date: 2026-03-01
classification: "Internal: for staff use"
lang: en-GB
version: "1.2"
sections:
  - title: First section
    intro: An *intro* with a [link](https://example.org/a?b=1&c=2).
    questions:
      - question: Does <markup> stay literal?
        id: literal
        answer: |
          Yes: <b>this</b> is text.[^shared] Second call.[^shared]

          - a list item
          - another, with `code`
      - question: Inline notes?
        answer: |
          An inline note.^[Written in place.] And a defined one.[^local]

          [^local]: Defined inside the answer.
  - title: Second section
    questions:
      - question: Inline notes?
        answer: Same question text gives a different id. Back to the shared note.[^shared]
footnotes:
  shared: A note defined at the top, *cited* three times.
"""


def body_of(html: str) -> str:
    body = html[html.index("<body"):html.index("</body>") + len("</body>")]
    return re.sub(r"\s+", " ", body).replace("> <", ">\n<").strip() + "\n"


def test_web_page_matches_golden(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"content/features.yaml": FEATURES})
    composed = prepare(project / "content" / "features.yaml", project)
    actual = body_of(page_html(composed, theme_for(project)))
    if os.environ.get("BRIEFING_REGENERATE_GOLDEN"):
        GOLDEN.write_text(actual, encoding="utf-8")
    assert actual == GOLDEN.read_text(encoding="utf-8")
