"""The project file, briefing.toml: build defaults, brand kit, strings, all validated with lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

import briefing
from briefing.errors import BriefingError
from briefing.source.project import load_project

from conftest import MINIMAL, REPO, pdftotext, run_briefing, write_project


def _png_logo() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (80, 40), (170, 51, 0)).save(buffer, "PNG")
    return buffer.getvalue()

# Project templates that show what the covers receive; the built-in covers' layout of the
# same variables is the theme's business.
COVER = """\
{% extends "base.html.j2" %}
{% block content %}<div id="cover"><h1>{{ doc.title }}</h1>
{% if brand.logo %}<img src="{{ brand.logo }}" alt="logo" style="width: 40mm">{% endif %}
<p>BRAND ORG: {{ brand.organisation }}</p></div>{% endblock %}
"""
PACK_COVER = """\
<!DOCTYPE html><html><head><style>{{ css }}</style></head><body>
{% for recipient in recipients %}<div class="cover" id="cover-{{ loop.index0 }}">
<img src="{{ brand.logo }}" alt="logo" style="width: 40mm">
<p>PACK BRAND ORG: {{ brand.organisation }}</p></div>{% endfor %}</body></html>
"""

PROJECT_FILE = """\
# a comment
[build]
profile = "handout"
handout = "4-up"
paper = "letter"
out = "built"

[brand]
primary = "#aa3300"
accent = "rgb(10, 20, 30)"
font_heading = ["Noto Serif"]
logo = "images/logo.png"
organisation = "Ministry of Examples"

[strings.en]
contents = "What is inside"

[mail]
from = "someone@example.org"
"""


@pytest.fixture(scope="module")
def branded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = write_project(tmp_path_factory.mktemp("branded"), {
        "briefing.toml": PROJECT_FILE,
        "content/brief.yaml": MINIMAL,
        "content/packs/pack.yaml": """\
            title: A pack
            items:
              - document: ../brief.yaml
            """,
        "images/logo.png": _png_logo(),
        "templates/cover.html.j2": COVER,
        "templates/pack_cover.html.j2": PACK_COVER,
    })
    result = briefing.build(project=project)
    assert result.ok, result.failures
    return project


def test_build_defaults_come_from_the_project_file(branded: Path) -> None:
    pdf = branded / "built" / "brief.pdf"  # out = "built"
    assert pdf.is_file() and not (branded / "out").exists()
    page = PdfReader(pdf).pages[0]
    # 4-up on Letter: one landscape-or-portrait Letter sheet carrying all the pages
    width, height = sorted((float(page.mediabox.width), float(page.mediabox.height)))
    assert (round(width), round(height)) == (612, 792)
    assert len(PdfReader(pdf).pages) == 1


def test_command_line_overrides_the_project_file(branded: Path, tmp_path: Path) -> None:
    done = run_briefing("build", "--profile", "screen", "--paper", "a4", "--out",
                        str(tmp_path), cwd=branded)
    assert done.returncode == 0, done.stderr
    reader = PdfReader(tmp_path / "brief.pdf")
    assert len(reader.pages) >= 2
    assert round(float(reader.pages[0].mediabox.width)) == 595  # A4


def test_brand_colours_and_fonts_are_css_custom_properties(branded: Path) -> None:
    html = (branded / "built" / "brief.html").read_text(encoding="utf-8")
    assert "--brand-primary: #aa3300;" in html
    assert "--brand-accent: rgb(10, 20, 30);" in html
    assert '--font-heading: "Noto Serif", "Noto Sans"' in html
    # after the theme's own :root, so the brand wins
    assert html.rindex("--brand-primary: #aa3300") > html.index(":root")


def test_logo_and_organisation_reach_the_document_cover(branded: Path,
                                                        tmp_path: Path) -> None:
    done = run_briefing("build", "--profile", "screen", "--out", str(tmp_path), cwd=branded)
    assert done.returncode == 0, done.stderr
    cover = tmp_path / "brief.pdf"
    assert "BRAND ORG: Ministry of Examples" in pdftotext(cover, "-f", "1", "-l", "1")
    assert _has_image(PdfReader(cover).pages[0])
    pack = tmp_path / "packs" / "pack.pdf"
    assert "PACK BRAND ORG: Ministry of Examples" in pdftotext(pack, "-f", "1", "-l", "1")
    assert _has_image(PdfReader(pack).pages[0])


def _has_image(page: object) -> bool:
    """An image on the page."""
    resources = page["/Resources"]  # type: ignore[index]
    return "/XObject" in resources and len(resources["/XObject"]) > 0


def test_strings_and_mail_are_kept_for_their_stages(branded: Path) -> None:
    settings = load_project(branded)
    assert settings.strings == {"en": {"contents": "What is inside"}}
    assert settings.mail == {"from": "someone@example.org"}
    assert settings.brand.logo and settings.brand.logo.startswith("data:image/png;base64,")


def test_no_project_file_means_the_defaults(tmp_path: Path) -> None:
    settings = load_project(tmp_path)
    assert settings.path is None and settings.brand.css() == ""


BAD = [
    ("[build]\nprofle = 'print'\n", ["briefing.toml:2: unknown key `profle` in [build]; "
                                     "did you mean `profile`?"]),
    ("[brand]\norganization = 'X'\n", ["briefing.toml:2: unknown key `organization` in "
                                        "[brand]; did you mean `organisation`?"]),
    ("[biuld]\n", ["briefing.toml:1: unknown key `biuld` at the top of the file; "
                   "did you mean `build`?"]),
    ("[build]\npaper = 'a3'\njobs = 0\nstrict = 'yes'\n", [
        "briefing.toml:2: `build.paper` must be one of a4, letter, a5, not `a3`",
        "briefing.toml:3: `build.jobs` must be a whole number of 1 or more, not 0",
        "briefing.toml:4: `build.strict` must be true or false, not `yes`",
    ]),
    ("[brand]\nprimary = 'red; } body { display: none'\n", [
        "briefing.toml:2: `brand.primary` must be a CSS colour such as \"#0b5c8a\", "
        "a colour name or rgb(...), not `red; } body { display: none`",
    ]),
    ("[brand]\nlogo = '../../etc/logo.png'\n", [
        "briefing.toml:2: `brand.logo` must be a file inside the project, not "
        "`../../etc/logo.png`",
    ]),
    ("[brand]\nlogo = 'images/missing.png'\n", [
        "briefing.toml:2: `brand.logo`: no such file `images/missing.png`",
    ]),
    ("[build]\nprofile = \n", ["briefing.toml:2: not valid TOML: Invalid value"]),
    ("[strings]\nen = 'x'\n", ["briefing.toml:2: `strings.en` must be a table of "
                               "word = \"text\" ([strings.en])"]),
]


@pytest.mark.parametrize(("text", "expected"), BAD, ids=[b[0].split("\n")[1] or b[0]
                                                         for b in BAD])
def test_bad_project_files(tmp_path: Path, text: str, expected: list[str]) -> None:
    (tmp_path / "briefing.toml").write_text(text, encoding="utf-8")
    with pytest.raises(BriefingError) as caught:
        load_project(tmp_path)
    assert [str(p) for p in caught.value.problems] == expected


def test_strings_words_are_checked_against_the_theme(tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "briefing.toml": "[strings.en]\ncontents = 'Inside'\ncontnets = 'Inside'\n",
        "content/brief.yaml": MINIMAL,
    })
    done = run_briefing("check", cwd=project)
    assert done.returncode == 1
    assert ("briefing.toml:3: unknown key `contnets` in [strings.en]; did you mean "
            "`contents`?") in done.stderr
    assert "briefing.toml:2:" not in done.stderr


def test_check_reports_the_project_file_with_the_content(tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "briefing.toml": "[build]\nprofile = 'print'\npapr = 'a4'\n",
        "content/brief.yaml": MINIMAL,
    })
    done = run_briefing("check", cwd=project)
    assert done.returncode == 1
    assert "briefing.toml:3: unknown key `papr` in [build]; did you mean `paper`?" in done.stderr
    done = run_briefing("build", cwd=project)
    assert done.returncode == 1 and "briefing.toml:3:" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_repository_project_file_is_valid() -> None:
    if (REPO / "briefing.toml").is_file():
        load_project(REPO)
