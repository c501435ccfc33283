"""`briefing build --profile`: each profile end to end from the CLI, for documents and packs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import MINIMAL, run_briefing, write_project

PACK = """\
title: Profile pack
items:
  - document: ../brief.yaml
  - document: ../brief.yaml
    title: The same again
"""


PERSONAL = PACK + """\
recipients: people.yaml
personalise_footer: true
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("profiles"), {
        "content/brief.yaml": MINIMAL,
        "content/packs/pack.yaml": PACK,
        "content/packs/personal.yaml": PERSONAL,
        "content/packs/people.yaml": "- name: Ada Example\n  organisation: First Org\n",
    })


def build(project: Path, *args: str) -> tuple[int, str, Path]:
    out = project / "out" / "-".join(a.strip("-") for a in args)
    result = run_briefing("build", "content/brief.yaml", "--out", str(out), "-j", "1", *args,
                          cwd=project)
    return result.returncode, result.stderr, out / "brief.pdf"


def test_booklet_is_a4_landscape_sheets(project: Path) -> None:
    code, err, pdf = build(project, "--profile", "booklet")
    assert code == 0, err
    reader = PdfReader(pdf)
    assert len(reader.pages) % 2 == 0
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (
            842, 595)
    # the outside back cover: left of the front cover on the first sheet, with the title
    # and no running header or page number (the notes' last page used to be there)
    back = _half(pdf, 1, left=True)
    assert "A small briefing" in back and "Page" not in back, back
    assert "For the tests" in _half(pdf, 1, left=False)  # the front cover's subtitle


def _half(pdf: Path, page: int, left: bool) -> str:
    import subprocess

    x = "0" if left else "421"
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-x", x, "-y", "0",
                           "-W", "421", "-H", "595", str(pdf), "-"],
                          check=True, capture_output=True, text=True).stdout


def test_print_has_bleed_trim_and_duplex_blank(project: Path) -> None:
    code, err, pdf = build(project, "--profile", "print")
    assert code == 0, err
    reader = PdfReader(pdf)
    # cover, a blank back of the cover, the body with its notes after it (the body starts on
    # a right-hand page; the notes share its page)
    assert len(reader.pages) == 3
    assert reader.page_labels[1] == "blank"
    page = reader.pages[2]
    trim = [round(float(v), 1) for v in page.trimbox]
    assert trim[2] - trim[0] == pytest.approx(595.3, abs=0.2)
    bleed = [float(v) for v in page.bleedbox]
    assert bleed[2] - bleed[0] == pytest.approx(595.28 + 2 * 3 * 72 / 25.4, abs=0.2)
    assert float(page.mediabox.width) > bleed[2] - bleed[0]


def test_email_budget_failure_names_the_largest_parts(project: Path) -> None:
    code, err, pdf = build(project, "--profile", "email", "--email-budget", "0.01")
    assert code == 1
    assert "e-mail budget" in err and "largest" in err
    assert not pdf.exists()


def test_handout_two_up(project: Path) -> None:
    code, err, pdf = build(project, "--profile", "handout")
    assert code == 0, err
    reader = PdfReader(pdf)
    assert len(reader.pages) == 1  # cover and body (its notes on its page) two-up
    assert float(reader.pages[0].mediabox.width) > float(reader.pages[0].mediabox.height)


def test_pack_in_print_profile_starts_each_document_on_a_right_hand_page(project: Path) -> None:
    out = project / "out" / "pack-print"
    result = run_briefing("build", "content/packs/pack.yaml", "--profile", "print",
                          "--out", str(out), "-j", "1", cwd=project)
    assert result.returncode == 0, result.stderr
    reader = PdfReader(out / "packs" / "pack.pdf")
    texts = [page.extract_text() for page in reader.pages]
    starts = [i for i, t in enumerate(texts) if "A small briefing" in t and "PROFILE PACK" in t]
    assert starts and all(i % 2 == 0 for i in starts), starts


def test_a_personalised_pack_as_a_booklet_ends_with_its_back_cover(project: Path) -> None:
    """Each copy's "Prepared for" goes on its numbered pages, not on the back cover."""
    out = project / "out" / "personal-booklet"
    result = run_briefing("build", "content/packs/personal.yaml", "--profile", "booklet",
                          "--out", str(out), "-j", "1", cwd=project)
    assert result.returncode == 0, result.stderr
    (copy,) = (out / "packs" / "personal").glob("*.pdf")
    back = _half(copy, 1, left=True)
    assert "Profile pack" in back and "Prepared for" not in back and "Page" not in back, back
    assert "Prepared for Ada Example" in _half(copy, 2, left=True)
