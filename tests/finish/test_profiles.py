"""The profiles as one step from built PDF to written PDF: each does its job, the e-mail
budget fails with a message naming the largest contributors."""

from __future__ import annotations

import io

import pytest
from pdf_samples import A5, image_pdf, images_of, numbered_pdf, photo
from pypdf import PdfReader

from briefing.errors import BriefingError
from briefing.finish.profiles import ProfileOptions, apply_profile
from briefing.options import PROFILES, render_paper


def sizes(pdf: bytes) -> list[tuple[int, int]]:
    return [(round(float(p.mediabox.width)), round(float(p.mediabox.height)))
            for p in PdfReader(io.BytesIO(pdf)).pages]


def test_each_profile_does_its_job() -> None:
    pages = numbered_pdf(6, A5)
    assert sizes(apply_profile(pages, "booklet", shown="x.pdf")) == [(842, 595)] * 4
    assert sizes(apply_profile(pages, "handout", shown="x.pdf")) == [(842, 595)] * 3
    four = apply_profile(pages, "handout", shown="x.pdf", options=ProfileOptions(handout_pages=4))
    assert sizes(four) == [(595, 842)] * 2
    printed = PdfReader(io.BytesIO(apply_profile(pages, "print", shown="x.pdf", starts=[0, 3])))
    assert len(printed.pages) == 7  # a blank before the second document
    assert printed.page_labels[3] == "blank"
    assert "/TrimBox" in printed.pages[0]
    big = image_pdf([(0, photo(1200, 900), (50, 300, 144, 108))])
    ((width, _, _, _),) = images_of(apply_profile(big, "screen", shown="x.pdf"))
    assert width == 300


def test_email_budget() -> None:
    big = image_pdf([(0, photo(1200, 900), (50, 300, 300, 225))])
    fits = apply_profile(big, "email", shown="out/x.pdf")
    assert len(fits) < len(big)
    with pytest.raises(BriefingError) as raised:
        apply_profile(big, "email", shown="out/x.pdf", options=ProfileOptions(budget=10_000))
    (problem,) = raised.value.problems
    assert problem.path == "out/x.pdf"
    assert "over the 10 KB e-mail budget; largest: image Im1 on page 1, 625×469 px (" in str(
        problem)
    assert str(problem).startswith("out/x.pdf: the PDF is ")


def test_unknown_profile_and_render_paper() -> None:
    with pytest.raises(BriefingError, match="unknown profile 'poster'"):
        apply_profile(numbered_pdf(1), "poster", shown="x.pdf")
    assert render_paper("booklet", "a4") == "a5"
    assert [render_paper(p, "letter") for p in PROFILES if p != "booklet"] == ["letter"] * 4
