"""`briefing build --profile`: each profile end to end from the CLI, for documents and packs;
the mirrored margins and outer-edge folios of the double-sided profiles, measured on the PDF."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader

from conftest import MINIMAL, REPO, pdftotext, run_briefing, write_project

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


# --- Double-sided: mirrored margins and folios on the outer edge ---------------------------

MM = 72 / 25.4
#: (inner, outer) margins of a double-sided print, and the one-sided margin (paper-*.css)
MIRRORED = {"a4": (35, 47), "letter": (38, 50), "a5": (18, 24)}
SYMMETRIC = {"a4": 41, "letter": 44, "a5": 21}
TEXT_BLOCK = {"a4": 128, "letter": 127.9, "a5": 106}
PAGE_WIDTH = {"a4": 210, "letter": 215.9, "a5": 148}
#: the running header sits above this line, the footer below the other (mm from the page top
#: and from its foot); the text block between them
HEADER_ZONE, FOOTER_ZONE = 20, 18
NEAR = 1.5  # points: glyph boxes against the margin they are set to

DUPLEX_PACK = """\
title: Duplex pack
classification: "Restricted: duplex test"
personalise_footer: true
recipients: people.csv
items:
  - document: ../cambodia-faq.yaml
  - document: ../cambodia-faq.km.yaml
"""
PEOPLE = "name,organisation,email\nAlex Example,Example Partner Foundation,alex@example.org\n"
DUPLEX_BUILDS = {"print-a4": ("print", "a4"), "print-letter": ("print", "letter"),
                 "print-a5": ("print", "a5"), "booklet": ("booklet", "a4"),
                 "screen": ("screen", "a4")}


@pytest.fixture(scope="module")
def duplex(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The seed in English and Khmer and a personalised pack of both, in print on every paper,
    as a booklet and on screen: build name -> its output folder."""
    project = write_project(tmp_path_factory.mktemp("duplex"), {
        "content/packs/duplex.yaml": DUPLEX_PACK, "content/packs/people.csv": PEOPLE})
    for name in ("cambodia-faq.yaml", "cambodia-faq.km.yaml"):
        shutil.copy(REPO / "content" / name, project / "content")
    found = {}
    for build_name, (profile, paper) in DUPLEX_BUILDS.items():
        out = project / "out" / build_name
        result = run_briefing("build", "--profile", profile, "--paper", paper, "--out", str(out),
                              "-j", "1", cwd=project)
        assert result.returncode == 0, result.stderr
        found[build_name] = out
    return found


Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Side:
    """One page as printed (a print file's page, or half of a booklet sheet), its words in
    millimetres from the trimmed page's top left corner: `header`, `body`, `footer`."""

    index: int
    recto: bool
    width: float
    header: list[tuple[Box, str]]
    body: list[tuple[Box, str]]
    footer: list[tuple[Box, str]]

    @property
    def left(self) -> float:
        """Where the text block starts: its leftmost word."""
        return min(box[0] for box, _ in self.body)

    def span(self, words: list[tuple[Box, str]]) -> tuple[float, float]:
        return min(box[0] for box, _ in words), max(box[2] for box, _ in words)


def _words(pdf: Path) -> list[list[tuple[Box, str]]]:
    """Every word of every page (`pdftotext -bbox`), in points from the page's top left."""
    xml = re.sub(r"<!DOCTYPE[^>]*>", "", pdftotext(pdf, "-bbox"))
    root = ElementTree.fromstring(xml.replace('xmlns="http://www.w3.org/1999/xhtml"', ""))
    return [[((float(w.get("xMin", 0)), float(w.get("yMin", 0)), float(w.get("xMax", 0)),
               float(w.get("yMax", 0))), w.text or "") for w in page.iter("word")]
            for page in root.iter("page")]


def _side(index: int, recto: bool, words: list[tuple[Box, str]], dx: float, dy: float,
          width_mm: float, height_mm: float) -> Side:
    zones: dict[str, list[tuple[Box, str]]] = {"header": [], "body": [], "footer": []}
    for (x0, y0, x1, y1), text in words:
        box = ((x0 - dx) / MM, (y0 - dy) / MM, (x1 - dx) / MM, (y1 - dy) / MM)
        zone = ("header" if box[3] < HEADER_ZONE else
                "footer" if box[1] > height_mm - FOOTER_ZONE else "body")
        zones[zone].append((box, text))
    return Side(index, recto, width_mm, **zones)


def printed_sides(pdf: Path, paper: str) -> list[Side]:
    """The numbered pages of a print file: page i of the file is a recto when i is even (the
    file is the duplex sequence, blanks included), measured from its trim box."""
    reader = PdfReader(pdf)
    found = []
    for index, (page, words) in enumerate(zip(reader.pages, _words(pdf), strict=True)):
        trim, crop = page.trimbox, page.cropbox
        dx, dy = float(trim.left) - float(crop.left), float(crop.top) - float(trim.top)
        side = _side(index, index % 2 == 0, words, dx, dy, PAGE_WIDTH[paper],
                     float(trim.height) / MM)
        if side.footer:
            found.append(side)
    return found


def booklet_sides(pdf: Path) -> list[Side]:
    """The numbered A5 pages of a booklet: the left half of each sheet side is a verso, the
    right half a recto (each page centred in its half)."""
    reader = PdfReader(pdf)
    found = []
    for index, (sheet, words) in enumerate(zip(reader.pages, _words(pdf), strict=True)):
        half = float(sheet.mediabox.width) / 2
        gap = (half - PAGE_WIDTH["a5"] * MM) / 2
        for recto in (False, True):
            dx = gap + (half if recto else 0)
            mine = [(box, text) for box, text in words if (box[0] >= half) == recto]
            side = _side(index, recto, mine, dx, 0, PAGE_WIDTH["a5"],
                         float(sheet.mediabox.height) / MM)
            if side.footer and side.header:  # not the covers: each has its band's words
                found.append(side)              # at one end only (the front's at the head)
    return found


def _check_mirrored(sides: list[Side], paper: str, stamped: bool = False,
                    body: bool = True) -> None:
    """On every page: the header and footer end at the outer margin and stay inside the text
    block; the block starts at the inner margin of a recto, the outer one of a verso; with
    `stamped`, "Prepared for" sits at the inner edge, clear of the page number."""
    inner, outer = MIRRORED[paper]
    width, block = PAGE_WIDTH[paper], TEXT_BLOCK[paper]
    near = NEAR / MM
    assert {s.recto for s in sides} == {True, False}, "rectos and versos both measured"
    for side in sides:
        left = inner if side.recto else outer
        where = f"page {side.index} ({'recto' if side.recto else 'verso'})"
        for zone in (side.header, side.footer):
            low, high = side.span(zone)
            assert low >= left - near and high <= left + block + near, where
            if side.recto:
                assert high == pytest.approx(width - outer, abs=near), where
            else:
                assert low == pytest.approx(outer, abs=near), where
        if body:
            assert side.left == pytest.approx(left, abs=near), where
            assert side.span(side.body)[1] <= left + block + near, where
        if stamped:
            number = next(i for i, (_, text) in enumerate(side.footer) if text == "Page")
            page_of = side.footer[number:number + 4]
            prepared = [w for w in side.footer if w not in page_of]
            assert [t for _, t in prepared][:2] == ["Prepared", "for"], where
            (n0, n1), (p0, p1) = side.span(page_of), side.span(prepared)
            if side.recto:
                assert p0 == pytest.approx(inner, abs=near) and p1 < n0 - 5, where
            else:
                assert p1 == pytest.approx(width - inner, abs=near) and n1 < p0 - 5, where


@pytest.mark.parametrize("paper", ["a4", "letter", "a5"])
def test_print_mirrors_the_margins_and_puts_folios_outside(duplex: dict[str, Path],
                                                           paper: str) -> None:
    sides = printed_sides(duplex[f"print-{paper}"] / "cambodia-faq.pdf", paper)
    _check_mirrored(sides, paper)
    # the same text block, shifted by the difference of the margins from a recto to a verso
    inner, outer = MIRRORED[paper]
    recto = next(s for s in sides if s.recto)
    verso = next(s for s in sides if not s.recto)
    assert verso.left - recto.left == pytest.approx(outer - inner, abs=0.3)
    # the body starts on a right-hand page, its first page is page 1
    assert sides[0].recto and [t for _, t in sides[0].footer][:2] == ["Page", "1"]


@pytest.mark.parametrize("paper", ["a4", "a5"])
def test_print_in_khmer_and_a_pack_are_mirrored(duplex: dict[str, Path], paper: str) -> None:
    out = duplex[f"print-{paper}"]
    km = printed_sides(out / "cambodia-faq.km.pdf", paper)
    if paper == "a4":  # one page of body on A4: a recto; A5 has a verso too
        assert [s.recto for s in km] == [True]
        km += [s for s in printed_sides(out / "cambodia-faq.pdf", paper) if not s.recto]
    _check_mirrored(km, paper)
    copy = out / "packs" / "duplex" / "alex-example.pdf"
    _check_mirrored(printed_sides(copy, paper), paper, stamped=True)


def test_a_booklet_is_mirrored_from_the_side_each_part_lands_on(duplex: dict[str, Path]) -> None:
    # the body follows a one-page cover: it starts on a verso (page 2), with no blank before it
    sides = booklet_sides(duplex["booklet"] / "cambodia-faq.pdf")
    first = next(s for s in sides if [t for _, t in s.footer][:2] == ["Page", "1"])
    assert not first.recto
    _check_mirrored(sides, "a5")
    assert len(sides) == 5  # the numbered pages: the body, its notes on its last page
    _check_mirrored(booklet_sides(duplex["booklet"] / "cambodia-faq.km.pdf"), "a5")
    pack = booklet_sides(duplex["booklet"] / "packs" / "duplex" / "alex-example.pdf")
    _check_mirrored(pack, "a5", stamped=True)


def test_screen_keeps_symmetric_margins_and_folios_on_the_right(duplex: dict[str, Path]) -> None:
    out = duplex["screen"]
    margin, width = SYMMETRIC["a4"], PAGE_WIDTH["a4"]
    for pdf in (out / "cambodia-faq.pdf", out / "packs" / "duplex" / "alex-example.pdf"):
        sides = printed_sides(pdf, "a4")
        assert len(sides) >= 3  # the seed: three numbered pages (its note on the last)
        for side in sides:
            assert side.span(side.footer)[1] == pytest.approx(width - margin, abs=NEAR / MM)
            assert side.span(side.header)[0] == pytest.approx(margin, abs=NEAR / MM)
            if pdf.name == "cambodia-faq.pdf":
                assert side.left == pytest.approx(margin, abs=NEAR / MM)
            else:  # "Prepared for" at the left of the footer
                assert side.span(side.footer)[0] == pytest.approx(margin, abs=NEAR / MM)
