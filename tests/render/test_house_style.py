"""The house style, measured on the produced PDFs (docs/house-style.md): the measure at every
paper size, hyphenation held in check and never inside an address, covers whose blocks cannot
overlap at any title length, paper size or language, Khmer chrome with no English in it, the
cover band in the print bleed, links that keep their address and page on paper."""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image

from briefing.render.html import PAPERS, cover_html
from briefing.render.pdf import render_pdf
from briefing.render.theme import theme_for
from briefing.source.prepare import prepare

from conftest import REPO, pdftotext, run_briefing, write_project

PAPER_SIZES = ("a4", "letter", "a5")
#: characters a full line holds, per paper (docs/house-style.md; A5 is allowed shorter lines)
MEASURE = {"a4": (60, 75), "letter": (60, 75), "a5": (50, 65)}
URL = "https://www.riverbank-foundation.example/reports/2026/prevalence-study-final.pdf"
EMAIL = "comms@riverbank-foundation.example"
HYPHENS = ("-", "\u2010", "\u00ad")
#: the width of the text block (paper-*.css)
TEXT_BLOCK_MM = {"a4": 128, "letter": 127.9, "a5": 106}

LONG_TEXT = (
    "the justice system has improved and prevalence of exploitation among establishments "
    "decreased substantially because investigations partnerships accountability organisations "
    "internationally recognised programmes strengthened communities responsibility "
    "notwithstanding extraordinary characteristics interdisciplinary")
LONG_WORDS = LONG_TEXT.split()


def long_document() -> str:
    """A briefing of some 15 pages set in long words (the hardest case for hyphenation), with
    an e-mail address, a URL, a phone number, a table, a link and a cross-reference."""
    questions = []
    for i in range(14):
        paragraphs = []
        for p in range(3):
            words = [LONG_WORDS[(i * 7 + p * 13 + k * k) % len(LONG_WORDS)] for k in range(70)]
            paragraphs.append(" ".join(words).capitalize() + ".")
        answer = "\n\n".join(paragraphs)
        if i == 2:
            answer += (f"\n\nWrite to <{EMAIL}> or read <{URL}> or call "
                       "[+855 23 123 456](tel:+85523123456).")
        if i == 4:
            answer += ("\n\n| City | Establishments | Minors |\n|---|---:|---:|\n"
                       "| Phnom Penh | 120 | 2.1% |\n| Siem Reap | 80 | 2.4% |\n")
        if i == 5:
            answer += " See [these slides](https://example.org/slides) and [the first](#q-first)."
        questions.append(f"""
      - question: "Question {i + 1}: what about {' '.join(LONG_WORDS[i:i + 6])}?"
        {'id: first' if i == 0 else ''}
        answer: |
{_indent(answer, 10)}""")
    return ("title: A long generated briefing\nlang: en-US\nsections:\n"
            "  - title: Questions\n    questions:" + "".join(questions) + "\n")


def _indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line if line else "" for line in text.splitlines())


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """The seed and the long document on every paper: (name, paper) -> PDF."""
    project = write_project(tmp_path_factory.mktemp("house"), {
        "content/long.yaml": long_document(),
    })
    shutil.copy(REPO / "content" / "cambodia-faq.yaml", project / "content")
    found: dict[tuple[str, str], Path] = {}
    for paper in PAPER_SIZES:
        result = run_briefing("build", "--paper", paper, "--out", f"out/{paper}", "-j", "1",
                              "content/long.yaml", "content/cambodia-faq.yaml", cwd=project)
        assert result.returncode == 0, result.stderr
        for name in ("long", "cambodia-faq"):
            found[(name, paper)] = project / "out" / paper / f"{name}.pdf"
    return found


def text_lines(pdf: Path) -> list[tuple[int, float, float, float, float, str]]:
    """(page, x0, y0, x1, y1, text) of every line poppler finds (`pdftotext -bbox-layout`)."""
    return [(page, *box, text) for page, kind, box, text in _boxes(pdf) if kind == "line"]


def _boxes(pdf: Path, first: int | None = None, last: int | None = None
           ) -> list[tuple[int, str, tuple[float, float, float, float], str]]:
    args = ["-bbox-layout"]
    if first is not None:
        args += ["-f", str(first), "-l", str(last or first)]
    xml = pdftotext(pdf, *args)
    xml = re.sub(r"<!DOCTYPE[^>]*>", "", xml).replace('xmlns="http://www.w3.org/1999/xhtml"', "")
    root = ElementTree.fromstring(xml)
    found = []
    for number, page in enumerate(root.iter("page")):
        for kind in ("block", "line"):
            for element in page.iter(kind):
                box = tuple(float(element.get(k) or 0) for k in ("xMin", "yMin", "xMax", "yMax"))
                words = " ".join(w.text or "" for w in element.iter("word"))
                found.append((number, kind, (box[0], box[1], box[2], box[3]), words))
    return found


def full_lines(pdf: Path) -> list[str]:
    """The body's full lines (past the cover, at least 90 % of the widest line)."""
    lines = [line for line in text_lines(pdf) if line[0] > 0]
    widest = max(x1 - x0 for _, x0, _, x1, _, _ in lines)
    return [text for _, x0, _, x1, _, text in lines if x1 - x0 >= 0.9 * widest]


@pytest.mark.parametrize("paper", PAPER_SIZES)
@pytest.mark.parametrize("name", ["cambodia-faq", "long"])
def test_measure_is_60_to_75_characters(builds: dict[tuple[str, str], Path], name: str,
                                        paper: str) -> None:
    lines = full_lines(builds[(name, paper)])
    assert len(lines) > 40
    low, high = MEASURE[paper]
    assert low <= statistics.median(len(line) for line in lines) <= high
    # no full line is far outside the measure either (a table or a URL line may run short)
    assert max(len(line) for line in lines) <= high + 12


@pytest.mark.parametrize("paper", PAPER_SIZES)
@pytest.mark.parametrize("name", ["cambodia-faq", "long"])
def test_no_more_than_two_hyphenated_lines_in_a_row(builds: dict[tuple[str, str], Path],
                                                    name: str, paper: str) -> None:
    run = longest = 0
    for line in pdftotext(builds[(name, paper)], "-raw").splitlines():
        run = run + 1 if re.search(r"[a-z][\-\u2010\u00ad]$", line) else 0
        longest = max(longest, run)
    assert longest <= 2


@pytest.mark.parametrize("paper", PAPER_SIZES)
def test_addresses_are_never_hyphenated(builds: dict[tuple[str, str], Path], paper: str) -> None:
    raw = pdftotext(builds[("long", paper)], "-raw")
    # wherever the address broke, it broke at its own punctuation: the lines join back to it
    assert URL in raw.replace("\n", "") and EMAIL in raw.replace("\n", "")
    for line in raw.splitlines():
        if any(piece in line for piece in ("riverbank", "foundation.example", "prevalence-st")):
            # it breaks before its own hyphens, never after: a line end "-" reads as hyphenation
            assert not line.endswith(HYPHENS), line
    assert "+855 23 123 456" in raw  # a phone number is one unit


@pytest.mark.parametrize("paper", PAPER_SIZES)
def test_headings_and_table_cells_are_not_hyphenated(builds: dict[tuple[str, str], Path],
                                                     paper: str) -> None:
    for _page, kind, _, text in _boxes(builds[("long", paper)]):
        if kind == "line" and (text.startswith("Question ") or "Phnom" in text):
            assert not text.endswith(HYPHENS), text
    raw = pdftotext(builds[("long", paper)], "-raw")
    assert "Phnom Penh" in raw  # the cell keeps its words on one line


def test_links_print_their_address_only_on_paper(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"content/long.yaml": long_document()})
    for profile in ("screen", "print"):
        result = run_briefing("build", "--profile", profile, "--out", f"out/{profile}",
                              "content/long.yaml", cwd=project)
        assert result.returncode == 0, result.stderr
    screen = re.sub(r"\s+", "", pdftotext(project / "out" / "screen" / "long.pdf"))
    paper = re.sub(r"\s+", "", pdftotext(project / "out" / "print" / "long.pdf"))
    assert "theseslides(https://example.org/slides)and" in paper
    assert "theseslidesand" in screen
    # a cross-reference carries the page its target is on (question 1: page 1), in both
    assert "thefirst(p.1)." in screen and "thefirst(p.1)." in paper


# Covers -----------------------------------------------------------------------------------

COVER = """\
title: "{title}"
subtitle: Message resource for global staff and partner organisations
lang: {lang}
organisation: Riverbank Foundation
logo: logo.png
audience: Press officers and field staff
date: 2026-03-01
version: "1.2"
classification: Internal
sections:
  - title: Questions
    questions:
      - question: What is this?
        answer: A cover test.
"""
ENGLISH_TITLE = ("Changing the narrative about child sex trafficking in Cambodia and the wider "
                 "region over a decade of public justice reform and what the partners learned "
                 "along the way")
TITLE_WORDS = {
    "en": ENGLISH_TITLE.split(),
    "km": ["ឯកសារគំរូ", "ជាភាសាខ្មែរ", "សម្រាប់", "បុគ្គលិក", "និងដៃគូ", "នៅកម្ពុជា"] * 6,
}


@pytest.fixture(scope="module")
def cover_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    logo = tmp_path_factory.mktemp("logo") / "logo.png"
    Image.new("RGB", (300, 90), (240, 180, 40)).save(logo)
    project = write_project(tmp_path_factory.mktemp("covers"), {
        "content/cover.yaml": COVER.format(title="Cover", lang="en"),
        "content/cover.km.yaml": COVER.format(title="គម្រប", lang="km"),
        "content/logo.png": logo.read_bytes(),
    })
    return project


def cover_pdf(project: Path, lang: str, words: int, paper: str, out: Path) -> Path:
    name = "cover.yaml" if lang == "en" else "cover.km.yaml"
    composed = prepare(project / "content" / name, project)
    title = " ".join(TITLE_WORDS[lang][:words])
    composed = replace(composed, document=replace(composed.document, title=title))
    part = render_pdf(cover_html(composed, theme_for(project), PAPERS[paper]), name="cover",
                      base=project / "content", project=project, shown=name)
    path = out / f"cover-{lang}-{paper}-{words}.pdf"
    path.write_bytes(part.pdf)
    return path


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("lang", ["en", "km"])
@pytest.mark.parametrize("paper", PAPER_SIZES)
def test_cover_blocks_never_overlap(cover_project: Path, tmp_path: Path, paper: str,
                                    lang: str) -> None:
    """Titles of 1 to 6 lines: every text block of the cover is clear of every other, and the
    cover stays one page."""
    title_lines = set()
    for words in (2, 6, 10, 14, 18, 24):
        pdf = cover_pdf(cover_project, lang, words, paper, tmp_path)
        boxes = [b for b in _boxes(pdf) if b[0] == 0]
        blocks = [box for _, kind, box, _ in boxes if kind == "block"]
        assert len(blocks) >= 4
        for i, a in enumerate(blocks):
            for b in blocks[i + 1:]:
                assert not _overlap(a, b), (words, a, b)
        assert max(page for page, *_ in boxes) == 0
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        assert re.search(r"^Pages:\s+1$", info, re.M), (words, info)
        lines = [box for _, kind, box, text in boxes if kind == "line" and text.strip()]
        title_lines.add(len(lines))
        text = pdftotext(pdf).replace("\n", " ")
        assert "Riverbank Foundation" in text
    assert len(title_lines) >= 4  # the titles really did grow line by line


def test_cover_band_runs_into_the_bleed_in_print(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"content/seed.yaml": (
        REPO / "content" / "cambodia-faq.yaml").read_text(encoding="utf-8")})
    result = run_briefing("build", "--profile", "print", "content/seed.yaml", cwd=project)
    assert result.returncode == 0, result.stderr
    pdf = project / "out" / "seed.pdf"
    boxes = subprocess.run(["pdfinfo", "-box", "-f", "1", "-l", "1", str(pdf)],
                           capture_output=True, text=True, check=True).stdout

    def box(name: str) -> list[float]:
        match = re.search(rf"{name}:\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)", boxes)
        assert match, boxes
        return [float(v) for v in match.groups()]

    media, trim = box("MediaBox"), box("TrimBox")
    subprocess.run(["pdftoppm", "-r", "72", "-f", "1", "-l", "1", "-png", str(pdf),
                    str(tmp_path / "page")], check=True)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    scale = image.width / (media[2] - media[0])

    def pixel(x_pt: float, y_pt: float) -> tuple[int, int, int]:
        x = round((x_pt - media[0]) * scale)
        y = round((media[3] - y_pt) * scale)
        r, g, b = image.getpixel((x, y))  # type: ignore[misc]
        return r, g, b

    bleed = 1.5 * 72 / 25.4  # half way into the 3 mm bleed
    middle = (trim[0] + trim[2]) / 2
    band = pixel(middle, trim[3] - 20)
    assert band[2] > 100 and band[0] < 60  # the band's blue, inside the trim
    assert pixel(middle, trim[3] + bleed) == band  # above the trim edge
    assert pixel(trim[0] - bleed, trim[3] - 20) == band  # left of it
    assert pixel(trim[2] + bleed, trim[3] - 20) == band  # right of it
    assert pixel(trim[0] - bleed, (trim[1] + trim[3]) / 2) == (255, 255, 255)  # below the band


# Khmer ------------------------------------------------------------------------------------

KHMER = """\
title: ឯកសារគំរូជាភាសាខ្មែរ
subtitle: សម្រាប់បុគ្គលិក
lang: km
organisation: អង្គការគំរូ
audience: បុគ្គលិក
date: 2026-03-01
version: "១"
sections:
  - title: សំណួរគំរូ
    questions:
      - question: តើឯកសារនេះជាអ្វី?
        answer: ឯកសារនេះបង្ហាញអក្សរខ្មែរ។[^a]
      - question: តើអក្សរខ្មែរមានលក្ខណៈពិសេសអ្វីខ្លះ?
        answer: អក្សរខ្មែរមានជើងអក្សរ។[^a][^b]
footnotes:
  a: កំណត់សម្គាល់ទីមួយ។
  b: កំណត់សម្គាល់ទីពីរ។
"""
KHMER_PACK = """\
title: កញ្ចប់គំរូ
lang: km
date: 2026-03-01
recipients: recipients.csv
items:
  - document: ../km.yaml
"""
ENGLISH_CHROME = ("In this briefing", "Contents", "Notes", "Page", "of", "Audience",
                  "Organisation", "Date", "Version", "Prepared", "Briefing pack", "March",
                  "Also cited", "Cover")


@pytest.fixture(scope="module")
def khmer_pdfs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    project = write_project(tmp_path_factory.mktemp("km"), {
        "content/km.yaml": KHMER,
        "content/packs/km-pack.yaml": KHMER_PACK,
        "content/packs/recipients.csv": "name,organisation\nសុខា,អង្គការគំរូ\n",
    })
    result = run_briefing("build", "-j", "1", cwd=project)
    assert result.returncode == 0, result.stderr
    return sorted((project / "out").rglob("*.pdf"))


def test_a_khmer_pdf_prints_no_english_chrome(khmer_pdfs: list[Path]) -> None:
    assert len(khmer_pdfs) == 2
    for pdf in khmer_pdfs:
        text = pdftotext(pdf)
        for word in ENGLISH_CHROME:
            assert not re.search(rf"\b{word}\b", text), (pdf.name, word)
        assert not re.search(r"[0-9]", text), (pdf.name, re.findall(r".{0,20}[0-9].{0,20}", text))
        assert "ទំព័រ ១ នៃ" in text  # Page 1 of …
        assert "១ មីនា ២០២៦" in text  # the date, CLDR's Khmer form in Khmer digits


def test_a_khmer_pdf_outline_is_khmer(khmer_pdfs: list[Path]) -> None:
    from pypdf import PdfReader

    for pdf in khmer_pdfs:
        titles = [str(item.title) for item in PdfReader(pdf).outline if not isinstance(item, list)]
        assert not {"Notes", "Contents"} & set(titles), titles


# Typography -------------------------------------------------------------------------------

TYPOGRAPHY_DOC = """\
title: Quotes
{setting}
sections:
  - title: Questions
    questions:
      - question: Isn't it "quoted"?
        answer: |
          `it's -- code`; it's 'single' and "double" -- 2000's --- and (a), (b), (c) stay.
"""


@pytest.mark.parametrize(("setting", "expected", "absent"), [
    ("", "it's -- code; it’s ‘single’ and “double” – 2000’s — and (a), (b), (c) stay.",
     "it's 'single'"),
    ("typography: typeset", "Isn’t it “quoted”?", "Isn't it"),
    ("typography: typed",
     "it's -- code; it's 'single' and \"double\" -- 2000's --- and (a), (b), (c) stay.",
     "’"),
])
def test_typography_setting(tmp_path: Path, setting: str, expected: str, absent: str) -> None:
    project = write_project(tmp_path, {"content/q.yaml": TYPOGRAPHY_DOC.format(setting=setting)})
    result = run_briefing("build", "content/q.yaml", cwd=project)
    assert result.returncode == 0, result.stderr
    text = re.sub(r"\s+", " ", pdftotext(project / "out" / "q.pdf"))
    assert expected in text and absent not in text


def test_an_unknown_typography_is_named_with_its_line(tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "content/q.yaml": TYPOGRAPHY_DOC.format(setting="typography: fancy")})
    result = run_briefing("check", "content/q.yaml", cwd=project)
    assert result.returncode == 1
    assert "content/q.yaml:2: `typography` must be one of `typeset`" in result.stderr


# Tables and images ------------------------------------------------------------------------

CAPTIONS = """\
title: Captions
sections:
  - title: Questions
    questions:
      - question: A table and a figure?
        answer: |
          Before the table, a sentence long enough to fill the measure of the text block well.

          | City | Establishments | Minors |
          |---|---:|---:|
          | Phnom Penh | 120 | 2.1% |
          | Siem Reap | 80 | 2.4% |

          Table: Prevalence by city, 2015

          ![A wide blue chart](wide.png "Figure 1: a chart wider than the page")

          After.
"""


@pytest.mark.parametrize("paper", ["a4", "a5"])
def test_captions_and_an_image_inside_the_text_block(tmp_path: Path, paper: str) -> None:
    wide = tmp_path / "wide.png"
    Image.new("RGB", (3000, 800), (40, 120, 180)).save(wide)
    project = write_project(tmp_path / "p", {"content/cap.yaml": CAPTIONS,
                                             "content/wide.png": wide.read_bytes()})
    result = run_briefing("build", "--paper", paper, "content/cap.yaml", cwd=project)
    assert result.returncode == 0, result.stderr
    pdf = project / "out" / "cap.pdf"
    text = pdftotext(pdf, "-raw")
    assert text.index("Prevalence by city, 2015") < text.index("Phnom Penh 120 2.1%")
    assert text.index("Siem Reap") < text.index("Figure 1: a chart wider than the page")
    lines = [line for line in text_lines(pdf) if line[0] == 1]
    left = min(x0 for _, x0, _, _, _, _ in lines)
    measure = TEXT_BLOCK_MM[paper] * 72 / 25.4
    subprocess.run(["pdftoppm", "-r", "72", "-f", "2", "-l", "2", "-png", str(pdf),
                    str(tmp_path / "page")], check=True)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    blue = [x for x in range(image.width) for y in range(0, image.height, 8)
            if image.getpixel((x, y)) == (40, 120, 180)]
    assert blue, "the image is drawn"
    assert min(blue) >= left - 1.5 and max(blue) <= left + measure + 1.5
    assert max(blue) - min(blue) >= measure - 3  # scaled down to the block, not cropped


def test_a_project_overrides_a_chrome_word(tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "content/km.yaml": KHMER,
        "content/en.yaml": TYPOGRAPHY_DOC.format(setting=""),
        "briefing.toml": '[strings.en]\ncontents = "What is inside"\n'
                         '[strings.km]\nnotes = "កំណត់ចំណាំ"\n',
    })
    result = run_briefing("build", "-j", "1", cwd=project)
    assert result.returncode == 0, result.stderr
    english = pdftotext(project / "out" / "en.pdf")
    khmer = pdftotext(project / "out" / "km.pdf")
    assert "What is inside" in english and "In this briefing" not in english
    assert "កំណត់ចំណាំ" in khmer and "កំណត់សម្គាល់\n" not in khmer


@pytest.mark.parametrize("paper", PAPER_SIZES)
def test_the_running_head_is_never_cut_inside_a_word(builds: dict[tuple[str, str], Path],
                                                     paper: str) -> None:
    title = "Changing the Narrative about Child Sex Trafficking in Cambodia"
    lines = text_lines(builds[("cambodia-faq", paper)])
    for page in (1, 2):
        head = min((line for line in lines if line[0] == page), key=lambda line: line[2])[5]
        assert head == title or (head.endswith("…") and title.startswith(head[:-1])
                                 and title[len(head) - 1] == " "), head
