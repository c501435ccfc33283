"""End to end on the seed FAQ: the merged PDF a reader gets, opened and checked."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml
from pypdf import PdfReader

import briefing

from conftest import REPO, pdftotext

SEED = REPO / "content" / "cambodia-faq.yaml"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> briefing.Output:
    out = tmp_path_factory.mktemp("out")
    result = briefing.build([SEED], project=REPO, out_dir=out)
    assert result.ok, result.failures
    return result.outputs[0]


@pytest.fixture(scope="module")
def reader(built: briefing.Output) -> PdfReader:
    return PdfReader(built.pdf)


@pytest.fixture(scope="module")
def source() -> dict:
    return yaml.safe_load(SEED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pages_text(built: briefing.Output) -> list[str]:
    count = len(PdfReader(built.pdf).pages)
    return [pdftotext(built.pdf, "-f", str(i), "-l", str(i)) for i in range(1, count + 1)]


def squash(text: str) -> str:
    """Compare text regardless of line breaks and hyphenation at line ends, and of the
    typographic quotes `typography: typeset` prints for typed ones (test_house_style.py
    checks those)."""
    quotes = str.maketrans("\u2018\u2019\u201c\u201d", "''\"\"")
    return re.sub(r"[\s\-\u00ad\u2010]", "", text).translate(quotes)


def without_folio(text: str) -> str:
    """Page text without the running header and footer, so paragraphs join across pages."""
    lines = [
        line for line in text.splitlines()
        if not re.fullmatch(r"Page \d+ of \d+", line.strip())
        and line.strip() != "Changing the Narrative about Child Sex Trafficking in Cambodia"
    ]
    return "\n".join(lines)


def page_of(reader: PdfReader, dest_page: object) -> int:
    for index, page in enumerate(reader.pages):
        if page.indirect_reference == dest_page:
            return index
    raise AssertionError("destination is not a page of the document")


def test_outputs_and_page_count(built: briefing.Output) -> None:
    assert built.pdf.name == "cambodia-faq.pdf" and built.pdf.is_file()
    assert built.html.name == "cambodia-faq.html" and built.html.is_file()
    assert built.pages == 4  # cover, three pages of answers, the notes on the last


def test_every_answer_present_in_order(pages_text: list[str], source: dict) -> None:
    text = squash("".join(without_folio(t) for t in pages_text[1:]))
    position = 0
    for question in source["sections"][0]["questions"]:
        for paragraph in [question["question"], *question["answer"].split("\n\n")]:
            expected = squash(paragraph.replace("[^prevalence-study]", "1"))
            found = text.find(expected, position)
            assert found >= 0, f"missing or out of order: {paragraph[:60]!r}"
            position = found + len(expected)


def test_cover(pages_text: list[str], source: dict) -> None:
    cover = " ".join(pages_text[0].split())
    assert source["title"] in cover
    assert source["subtitle"] in cover
    assert "Page" not in cover  # the cover is not numbered


def test_footer_numbers_and_page_labels(pages_text: list[str], reader: PdfReader) -> None:
    assert reader.page_labels == ["Cover", "1", "2", "3"]
    for index, text in enumerate(pages_text[1:], start=1):
        assert f"Page {index} of 3" in text
        assert "Changing the Narrative about Child Sex Trafficking in Cambodia" in text


def test_contents_entries_link_to_their_questions(
    reader: PdfReader, pages_text: list[str], source: dict
) -> None:
    questions = [q["question"] for q in source["sections"][0]["questions"]]
    first = reader.pages[1]
    links = [a.get_object() for a in first.get("/Annots", [])]
    contents_text = " ".join(pages_text[1].split("In this briefing")[1].split())
    targets = {}
    for link in links:
        dest = link.get("/Dest")
        if dest is not None:
            targets.setdefault(float(link["/Rect"][1]), page_of(reader, dest[0]))
    # one link target per contents line, in order, each on the page that starts that question
    assert len(set(targets.values())) >= 2
    for question in questions:
        target_pages = [i for i, t in enumerate(pages_text) if squash(question) in squash(t)]
        assert target_pages, question
    printed = re.findall(r"\.\s*(\d+)\s", contents_text)
    assert len(printed) == 5
    for question, label in zip(questions, printed, strict=True):
        page_index = int(label)  # printed number N is merged page index N (cover is index 0)
        assert squash(question) in squash(pages_text[page_index])


def test_outline(reader: PdfReader, pages_text: list[str], source: dict) -> None:
    outline = reader.outline
    titles = [item.title for item in outline if not isinstance(item, list)]
    assert titles == ["Cover", "Answers to Frequently Asked Questions", "Notes"]
    nested = next(item for item in outline if isinstance(item, list))
    questions = [squash(q["question"]) for q in source["sections"][0]["questions"]]
    assert [squash(item.title) for item in nested] == questions  # typographic quotes aside
    for item in nested:
        page = reader.get_destination_page_number(item)
        assert squash(item.title) in squash(pages_text[page])
    notes = next(i for i in outline if not isinstance(i, list) and i.title == "Notes")
    assert reader.get_destination_page_number(notes) == 3
    assert reader.get_destination_page_number(outline[0]) == 0


def test_footnote_call_and_back_link(reader: PdfReader, pages_text: list[str]) -> None:
    call_page = next(i for i, t in enumerate(pages_text) if "directed law enforcement." in t)
    notes_page = 3
    assert "Notes" in pages_text[notes_page]
    assert "See page 31 of the 2012 prevalence study" in pages_text[notes_page]

    def dests(index: int) -> list[tuple[int, float]]:
        found = []
        for annot in reader.pages[index].get("/Annots", []):
            dest = annot.get_object().get("/Dest")
            if dest is not None:
                found.append((page_of(reader, dest[0]), float(dest[3])))
        return found

    assert any(page == notes_page for page, _ in dests(call_page)), "call links to its note"
    back = [(page, top) for page, top in dests(notes_page)]
    assert back and back[0][0] == call_page, "the note links back to its call"
    # the back-link lands on the call's line, not the top of the page
    assert back[0][1] < float(reader.pages[call_page].mediabox.height) - 100


def test_the_notes_share_the_last_body_page(built: briefing.Output, source: dict) -> None:
    """The notes follow the last answer on its page (a notes part once opened a page of its
    own for one line), below it, and inside the text block, clear of the footer."""
    last = len(PdfReader(built.pdf).pages)
    words = [(w, y) for w, y in _tops(built.pdf, last)]
    final = source["sections"][-1]["questions"][-1]["answer"].split()[-1]  # "violence."
    answer_end = max(y for w, y in words if w == final)
    heading = min(y for w, y in words if w == "Notes")
    note = max(y for w, y in words if w == "prevalence")  # the note: "... prevalence study"
    footer = min(y for w, y in words if w == "Page")
    assert answer_end < heading < note < footer - 20


def _tops(pdf: object, page: int) -> list[tuple[str, float]]:
    xml = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         check=True, capture_output=True, text=True).stdout
    return [(w, float(y)) for y, w in re.findall(
        r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">([^<]*)', xml)]


def test_no_unresolved_internal_links(reader: PdfReader) -> None:
    for page in reader.pages:
        for annot in page.get("/Annots", []):
            annot = annot.get_object()
            action = annot.get("/A")
            if action is not None:
                assert not str(action.get_object().get("/URI", "")).startswith("x-briefing:")
            assert not isinstance(annot.get("/Dest"), str), "named destinations are not kept"


def test_metadata(reader: PdfReader, built: briefing.Output) -> None:
    info = reader.metadata
    assert info.title == "Changing the Narrative about Child Sex Trafficking in Cambodia"
    assert info.subject == "Message Resource for Global Staff"
    assert info.author is None  # the seed names no organisation; nothing is invented
    assert reader.trailer["/Root"]["/Lang"] == "en"
    pdfinfo = subprocess.run(["pdfinfo", str(built.pdf)], capture_output=True, text=True,
                             check=True).stdout
    assert "Page size:       595.276 x 841.89 pts (A4)" in pdfinfo


def test_valid_pdf_with_embedded_fonts(built: briefing.Output) -> None:
    subprocess.run(["qpdf", "--check", str(built.pdf)], check=True, capture_output=True)
    fonts = subprocess.run(["pdffonts", str(built.pdf)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts
    for row in fonts:
        assert " yes " in row, row  # embedded


def test_html_page_is_self_contained(built: briefing.Output) -> None:
    html = built.html.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in html
    assert "<style>" in html and "rel=\"stylesheet\"" not in html
    assert not re.search(r"""(src|href)=["'](https?:|file:|/)""", html)
    assert 'href="#fn-1"' in html and 'id="fn-1"' in html
    assert 'href="#fnref-1"' in html and 'id="fnref-1"' in html
    assert "x-briefing:" not in html
    assert "directed law enforcement." in html
