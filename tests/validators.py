"""Independent validators and readers, none written here, run over the PDFs the tests build.

- `page` (PyPI `page-validation`): PDF/UA-1 and PDF/A-3b rule checks.
- `outloud` (PyPI): PDF/UA-1 by Matterhorn checkpoint, plus WCAG semantic checks.
- PDFium (PyPI `pypdfium2`, Chrome's PDF engine), pdf.js (npm `pdfjs-dist`, Firefox's, through
  tests/pdfjs_text.mjs), poppler (`pdftotext`), pdfminer.six and pypdf: what each reader
  extracts, page by page.

`make test` installs every one of them (the `test` extra, `npm ci`, scripts/system-deps.sh).
A tool that is missing makes the test that needs it FAIL with what to install: a validator
that silently skips would let a broken PDF through.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
PDFJS_SCRIPT = Path(__file__).with_name("pdfjs_text.mjs")
SOFT_HYPHEN = "\u00ad"
INSTALL = "run `make test` (or `pip install -e '.[test]'` and `npm ci`) to install it"


def require_module(name: str) -> ModuleType:
    """Import a test-only tool, or fail the test saying how to install it (never skip)."""
    try:
        return importlib.import_module(name)
    except ImportError as error:  # pragma: no cover: only on a machine set up by hand
        pytest.fail(f"the validator module {name!r} is not installed ({error}); {INSTALL}",
                    pytrace=False)


def require_program(name: str) -> str:
    path = shutil.which(name)
    if path is None:  # pragma: no cover
        pytest.fail(f"the program {name!r} is not on PATH; {INSTALL}", pytrace=False)
    return path


@dataclass(frozen=True)
class RuleFailure:
    """One failed rule of one validator, as it names it."""

    tool: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.tool} {self.rule}: {self.message}"


def page_failures(pdf: Path, profile: str) -> list[RuleFailure]:
    """What `page` finds against `profile` ("ua1" for PDF/UA-1, "3b" for PDF/A-3b)."""
    page = require_module("page")
    report = page.validate_pdf(str(pdf), profile=profile)
    failures = [RuleFailure(f"page {page.__version__} {profile}", f.rule_id, f.message)
                for f in report.failures]
    if not report.is_compliant and not failures:
        failures.append(RuleFailure(f"page {profile}", "?", "not compliant"))
    return failures


def outloud_failures(pdf: Path) -> list[RuleFailure]:
    """The errors `outloud` reports (PDF/UA-1 conformance and WCAG semantics); warnings aside."""
    outloud = require_module("outloud")
    result = outloud.check(str(pdf))
    if result.error:
        return [RuleFailure("outloud", "open", str(result.error))]
    return [RuleFailure(f"outloud {outloud.__version__}", f.rule,
                        f"{f.message} (page {f.page}, x{f.count}) {f.evidence or ''}".strip())
            for f in result.findings if f.severity == "error"]


def pdfium_pages(pdf: Path) -> list[str]:
    """Text per page as PDFium (Chrome's PDF engine) extracts it."""
    pdfium = require_module("pypdfium2")
    document = pdfium.PdfDocument(str(pdf))
    try:
        texts = []
        for page in document:
            textpage = page.get_textpage()
            # PDFium reports a hyphen that ends a line inside a word as U+0002 (its
            # CPDF_TextPage marks it kHyphen); it is the soft hyphen other readers return
            texts.append(textpage.get_text_bounded().replace("\x02", SOFT_HYPHEN))
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


def pdfjs_extract(pdf: Path) -> dict[str, Any]:
    """Page texts and links as pdf.js (Firefox's PDF engine) sees them."""
    node = require_program("node")
    if not (REPO / "node_modules" / "pdfjs-dist").is_dir():  # pragma: no cover
        pytest.fail(f"pdf.js (npm pdfjs-dist) is not in node_modules/; {INSTALL}", pytrace=False)
    run = subprocess.run([node, str(PDFJS_SCRIPT), str(pdf)], cwd=REPO, capture_output=True,
                         text=True, timeout=120, check=False)
    if run.returncode != 0:
        pytest.fail(f"pdf.js could not read {pdf.name}: {run.stderr.strip()}", pytrace=False)
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def pdfjs_pages(pdf: Path) -> list[str]:
    pages: list[str] = pdfjs_extract(pdf)["pages"]
    return pages


def poppler_pages(pdf: Path) -> list[str]:
    exe = require_program("pdftotext")
    text = subprocess.run([exe, "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def pdfminer_pages(pdf: Path) -> list[str]:
    require_module("pdfminer")
    high_level = importlib.import_module("pdfminer.high_level")
    text: str = high_level.extract_text(str(pdf))
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def pypdf_pages(pdf: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(pdf).pages]


READERS = {
    "poppler": poppler_pages,
    "pdfium": pdfium_pages,
    "pdfjs": pdfjs_pages,
    "pypdf": pypdf_pages,
    "pdfminer": pdfminer_pages,
}


def squeeze(text: str) -> str:
    """Text with all whitespace and soft hyphens removed: readers differ in where they put
    spaces and line breaks, and a soft hyphen (U+00AD, what a hyphen added at a line break
    extracts as) is invisible except at a line break, so search ignores it. Typographic
    quotes (`typography: typeset`, the default) compare equal to the typed ones."""
    quotes = str.maketrans("\u2018\u2019\u201c\u201d", "''\"\"")
    return "".join(text.replace(SOFT_HYPHEN, "").split()).translate(quotes)
