"""A project's @font-face fonts, which WeasyPrint copies into a temporary folder, leave nothing
behind (render/pdf.py remove_font_folders): not from the CLI, which ends with `os._exit`, nor
from its pool's workers, which end the same way. (A process that ends normally removes them
at exit too, before the interpreter's teardown, where WeasyPrint's own removal fails.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import MINIMAL, run_briefing, write_project

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
#: a project's own font: relative URLs in styles/custom.css resolve against the document's folder
BRAND_CSS = """\
@font-face { font-family: Brand; src: url(fonts/brand.ttf); }
:root { --font-body: Brand; }
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project", {
        "content/one.yaml": MINIMAL,
        "content/two.yaml": MINIMAL.replace("A small briefing", "Another briefing"),
        "styles/custom.css": BRAND_CSS,
        "content/fonts/brand.ttf": FONT.read_bytes(),
    })


def leftovers(temporary: Path) -> list[str]:
    return sorted(p.name for p in temporary.iterdir() if p.name.startswith("weasyprint-"))


def brand_font_used(pdf: Path) -> bool:
    fonts = {str(font.get("/BaseFont")) for page in PdfReader(pdf).pages
             for font in page["/Resources"]["/Font"].values()}
    return any("+Brand" in font for font in fonts)  # the family @font-face names


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_cli_leaves_no_font_folder(project: Path, tmp_path: Path, jobs: str) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    done = run_briefing("build", "-j", jobs, cwd=project,
                        env={**os.environ, "TMPDIR": str(temporary)})
    assert done.returncode == 0, done.stderr
    assert brand_font_used(project / "out" / "one.pdf")  # the copied font was drawn with
    assert leftovers(temporary) == []
