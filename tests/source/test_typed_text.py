"""YAML 1.1 surprises in text fields are printed exactly as typed, in the PDF and the web page.

PyYAML's loader reads `NO` as false, `012` as 10, `1.10` as 1.1, `on` as true and `no` (the
language tag of Norwegian) as false; briefing only composes the YAML and keeps the typed text.
"""

from __future__ import annotations

import re

import pytest
import yaml
from badinput import project_with

from briefing import api

from conftest import pdftotext

TYPED = """\
title: NO
subtitle: yes
organisation: on
version: 1.10
lang: no
date: 2025-01-02
sections:
  - title: 012
    questions:
      - question: 0x1F
        answer: NO
      - question: off
        answer: 1e3 and ~ stay
      - question: Y
        answer: 12:30:00
"""


def test_pyyaml_would_convert_them() -> None:
    """The hazard this guards against, as PyYAML's own loader reads the same text."""
    data = yaml.safe_load(TYPED)
    assert (data["title"], data["version"], data["lang"]) == (False, 1.1, False)
    assert data["sections"][0]["title"] == 10
    assert data["sections"][0]["questions"][2]["answer"] == 45000


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    project = project_with(tmp_path_factory.mktemp("typed"), {"typed.yaml": TYPED})
    result = api.build(project=project)
    assert result.ok, [str(p) for _, e in result.failures for p in e.problems]
    [output] = result.outputs
    assert output.html is not None
    return pdftotext(output.pdf), output.html.read_text(encoding="utf-8")


def test_html_keeps_the_typed_text(built: tuple[str, str]) -> None:
    _, html = built
    assert '<html lang="no">' in html
    assert re.search(r'<h1 class="cover-title">NO</h1>', html)
    assert '<p class="cover-subtitle">yes</p>' in html
    assert "<dd>on</dd>" in html and "<dd>1.10</dd>" in html
    assert '<h2 class="section-title">012</h2>' in html
    for question in ("0x1F", "off", "Y"):
        assert f'<h3 class="question-title">{question}</h3>' in html
    for answer in ("NO", "1e3 and ~ stay", "12:30:00"):
        assert f"<p>{answer}</p>" in html


def test_pdf_keeps_the_typed_text(built: tuple[str, str]) -> None:
    text, _ = built
    lines = {line.strip() for line in text.splitlines()}
    for typed in ("NO", "yes", "012", "0x1F", "off", "1e3 and ~ stay", "12:30:00"):
        assert typed in lines, typed
    assert "1.10" in text
    for converted in ("False", "True", "45000", "1000.0"):
        assert converted not in text
