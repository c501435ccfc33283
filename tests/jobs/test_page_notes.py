"""`notes: page`: each note printed at the foot of the page that calls it, numbered as the notes
appendix would be, linked both ways; no notes part and no "Notes" outline entry. A document of
five pages and two small packs are built once for the module and read back."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader

import briefing
from briefing.source.model import Document
from briefing.source.pack import Pack, notes_on_page

from conftest import pdftotext, write_project

MM = 72 / 25.4
SENTENCE = ("Field staff in the provinces report that the distribution of seeds and tools went "
            "ahead as planned although heavy rain delayed the trucks on the national road")
FILLER = SENTENCE.split()


def filler(words: int, seed: int) -> str:
    return " ".join(FILLER[(i * 7 + seed) % len(FILLER)] for i in range(words)).capitalize()


def answer(seed: int, call: str = "", paragraphs: int = 5) -> str:
    """Paragraphs of filler; `call` goes at the end of the third, after a unique word."""
    texts = [filler(75, seed * 5 + p) + "." for p in range(paragraphs)]
    if call:
        texts[2] += f" {call}"
    return "\n\n".join(texts)


def block(text: str, indent: int) -> str:
    pad = " " * indent
    return "|\n" + "\n".join(pad + line if line else "" for line in text.splitlines())


#: A note with every kind of block Markdown has, printed inside the paragraph that calls it.
ECHO = """\
NOTEE opens a note with blocks.

A second paragraph.

- bullet one
- bullet two

3. third item
4. fourth item

> a quoted line

| Column | Value |
|--------|------:|
| cell   | 42    |

    code line

---

Last paragraph."""

DOCUMENT = f"""\
title: Page notes
notes: page
footnotes:
  alpha: NOTEA is defined in the footnotes mapping.
  shared: NOTEB is called twice and printed once.
  delta: NOTED is called from a section intro.
  echo: {block(ECHO, 4)}
sections:
  - title: First section
    questions:
      - question: Question one?
        answer: {block(answer(1, "CALLA[^alpha]."), 10)}
      - question: Question two?
        answer: {block(answer(2, "CALLB[^shared]."), 10)}
  - title: Second section
    intro: CALLD[^delta] is in a section intro.
    questions:
      - question: Question three?
        answer: {block(answer(3, "CALLC^[NOTEC is an inline note.]."), 10)}
      - question: Question four?
        answer: {block(answer(4, "CALLE[^echo]. AGAINB[^shared]."), 10)}
      - question: Question five?
        answer: {block(answer(5), 10)}
"""

SMALL = """\
title: {title}
{notes}sections:
  - title: Questions of {title}
    questions:
      - question: Where is the note of {title}?
        answer: Answer of {title}.[^n]
footnotes:
  n: Note belonging to {title}.
"""

PACK = """\
title: Pack
{notes}items:
  - document: ../plain.yaml
  - document: ../paged.yaml
"""


@dataclass(frozen=True)
class Word:
    text: str
    page: int
    x0: float
    top: float  # PDF user space: points from the bottom of the page
    x1: float
    bottom: float


def words(pdf: Path) -> list[Word]:
    """Every word with its box, from pdftotext -bbox, in PDF coordinates."""
    html = subprocess.run(["pdftotext", "-bbox", "-enc", "UTF-8", str(pdf), "-"],
                          check=True, capture_output=True, text=True).stdout
    found: list[Word] = []
    for page, chunk in enumerate(html.split("<page ")[1:]):
        height = float(re.search(r'height="([\d.]+)"', chunk)[1])  # type: ignore[index]
        for x0, y0, x1, y1, text in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)',
            chunk,
        ):
            found.append(Word(text, page, float(x0), height - float(y0), float(x1),
                              height - float(y1)))
    return found


def word(all_words: list[Word], prefix: str) -> Word:
    matches = [w for w in all_words if w.text.startswith(prefix)]
    assert len(matches) == 1, (prefix, matches)
    return matches[0]


@dataclass(frozen=True)
class Link:
    page: int
    rect: tuple[float, float, float, float]
    dest_page: int
    dest_y: float


def links(reader: PdfReader) -> list[Link]:
    pages = {page.indirect_reference: i for i, page in enumerate(reader.pages)}
    found = []
    for index, page in enumerate(reader.pages):
        for annot in page.get("/Annots", []):
            annot = annot.get_object()
            dest = annot.get("/Dest")
            if dest is not None:
                x0, y0, x1, y1 = (float(v) for v in annot["/Rect"])
                found.append(Link(index, (x0, y0, x1, y1), pages[dest[0]], float(dest[3])))
    return found


def beside(link: Link, w: Word, *, before: bool) -> bool:
    """The link is on the word's line, just after it (a call) or just before it (a number)."""
    x0, y0, x1, y1 = link.rect
    same_line = link.page == w.page and y0 < w.top and y1 > w.bottom
    if before:
        return same_line and x1 <= w.x0 + 1 and x0 > w.x0 - 30
    return same_line and x0 >= w.x1 - 1 and x0 < w.x1 + 8


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("page-notes")
    return write_project(root, {
        "content/doc.yaml": DOCUMENT,
        "content/plain.yaml": SMALL.format(title="Plain", notes=""),
        "content/paged.yaml": SMALL.format(title="Paged", notes="notes: page\n"),
        "content/packs/all-on-page.yaml": PACK.format(notes="notes: page\n"),
        "content/packs/each-its-own.yaml": PACK.format(notes=""),
    })


@pytest.fixture(scope="module")
def built(project: Path) -> briefing.Output:
    result = briefing.build([project / "content/doc.yaml"], project=project)
    assert result.ok, result.failures
    return result.outputs[0]


@pytest.fixture(scope="module")
def reader(built: briefing.Output) -> PdfReader:
    return PdfReader(built.pdf)


@pytest.fixture(scope="module")
def placed(built: briefing.Output) -> list[Word]:
    return words(built.pdf)


@pytest.fixture(scope="module")
def texts(built: briefing.Output, reader: PdfReader) -> list[str]:
    return [pdftotext(built.pdf, "-f", str(i), "-l", str(i))
            for i in range(1, len(reader.pages) + 1)]


#: each note's letter and its number: the order of first calls, intros included
ORDER = {"A": 1, "B": 2, "D": 3, "C": 4, "E": 5}


def after(all_words: list[Word], w: Word) -> Word:
    return all_words[all_words.index(w) + 1]


def before(all_words: list[Word], w: Word) -> Word:
    return all_words[all_words.index(w) - 1]


def test_each_note_is_at_the_foot_of_the_page_of_its_call(placed: list[Word]) -> None:
    pages = set()
    for letter in ORDER:
        call, note = word(placed, f"CALL{letter}"), word(placed, f"NOTE{letter}")
        assert call.page == note.page, letter
        assert note.top < call.bottom, f"note {letter} is below its call"
        pages.add(note.page)
    assert len(pages) >= 3, "the notes are spread over several pages"


def test_numbers_follow_the_order_of_first_calls(placed: list[Word]) -> None:
    for letter, number in ORDER.items():
        assert after(placed, word(placed, f"CALL{letter}")).text == str(number)
        assert before(placed, word(placed, f"NOTE{letter}")).text == str(number)
    assert after(placed, word(placed, "AGAINB")).text == "2", "a later call, the same number"


def test_a_note_called_twice_is_printed_once_at_its_first_call(placed: list[Word]) -> None:
    again, note = word(placed, "AGAINB"), word(placed, "NOTEB")  # word() asserts it is unique
    assert note.page == word(placed, "CALLB").page < again.page


def test_no_notes_part_and_no_notes_outline_entry(reader: PdfReader, texts: list[str]) -> None:
    def titles(entries: list) -> list[str]:  # type: ignore[type-arg]
        return [t for e in entries
                for t in (titles(e) if isinstance(e, list) else [e.title])]

    outline = titles(reader.outline)
    assert "Notes" not in outline and "Question five?" in outline
    assert not any(line.strip() == "Notes" for text in texts for line in text.splitlines())
    last = texts[-1]
    assert filler(75, 5 * 5 + 4).split()[-1] in last, "the document ends with the last answer"


def call_link(all_links: list[Link], w: Word) -> Link:
    found = [link for link in all_links if beside(link, w, before=False)]
    assert len(found) == 1, (w, found)
    return found[0]


def test_calls_link_to_their_note_on_the_same_page(reader: PdfReader,
                                                    placed: list[Word]) -> None:
    all_links = links(reader)
    for letter in ORDER:
        call, note = word(placed, f"CALL{letter}"), word(placed, f"NOTE{letter}")
        link = call_link(all_links, call)
        assert link.dest_page == call.page
        assert abs(link.dest_y - note.top) < 6, "the destination is the note's first line"
        assert link.rect[1] - link.rect[3] > 4, "the call's link has a height to click"
    again, note = word(placed, "AGAINB"), word(placed, "NOTEB")
    link = call_link(all_links, again)
    assert (link.dest_page, round(link.dest_y)) == (note.page, round(link.dest_y))
    assert abs(link.dest_y - note.top) < 6


def test_notes_link_back_to_their_first_call(reader: PdfReader, placed: list[Word]) -> None:
    all_links = links(reader)
    for letter in ORDER:
        call, note = word(placed, f"CALL{letter}"), word(placed, f"NOTE{letter}")
        found = [link for link in all_links if beside(link, note, before=True)]
        assert len(found) == 1, (letter, found)
        assert found[0].dest_page == call.page
        assert abs(found[0].dest_y - call.top) < 8, "the back link lands on the call's line"


def test_notes_stay_inside_the_page_area_clear_of_the_footer(
    reader: PdfReader, placed: list[Word], texts: list[str]
) -> None:
    margin = 24 * MM  # the bottom margin of print.css; the footer is stamped inside it
    for index in range(1, len(reader.pages)):
        footer = [w for w in placed if w.page == index and w.top < margin]
        assert " ".join(w.text for w in footer) == f"Page {index} of {len(reader.pages) - 1}"
        lowest = min(w.bottom for w in placed if w.page == index and w not in footer)
        assert lowest > margin - 1
        assert lowest - max(w.top for w in footer) > 10 * MM / 2


def test_block_markdown_in_a_note_is_all_printed(placed: list[Word], texts: list[str]) -> None:
    page = word(placed, "NOTEE").page
    text = " ".join(texts[page].split())
    for piece in ("NOTEE opens a note with blocks. A second paragraph.", "bullet one",
                  "bullet two", "3. third item", "4. fourth item", "a quoted line", "Column",
                  "Value", "42", "code line", "Last paragraph."):
        assert piece in text, piece


def test_note_inside_its_paragraph_in_the_html(project: Path) -> None:
    """An HTML parser would end the calling paragraph at a <p> or <ul> inside the note."""
    import tinyhtml5

    from briefing.render.html import PAPERS, body_html
    from briefing.render.theme import theme_for
    from briefing.source.prepare import prepare

    composed = prepare(project / "content/doc.yaml", project)
    html = body_html(composed, theme_for(project), PAPERS["a4"], 1, page_notes=True)
    tree = tinyhtml5.parse(html, namespace_html_elements=False)
    footnotes = tree.findall(".//span[@class='footnote']")
    assert [f.get("id") for f in footnotes] == [f"fn-{n}" for n in range(1, 6)]
    for paragraph in tree.iter("p"):
        notes = paragraph.findall(".//span[@class='footnote']")
        if any(n.get("id") == "fn-5" for n in notes):
            assert "AGAINB" in "".join(paragraph.itertext())
            break
    else:
        raise AssertionError("note 5 is not inside a paragraph")


def test_web_page_keeps_the_notes_list(built: briefing.Output) -> None:
    assert built.html is not None
    html = built.html.read_text(encoding="utf-8")
    assert '<section class="notes"' in html and 'class="footnote"' not in html
    assert html.count("NOTEB is called twice") == 1
    assert html.index("NOTEA") > html.index("Question five?")


def test_valid_pdf(built: briefing.Output) -> None:
    subprocess.run(["qpdf", "--check", str(built.pdf)], check=True, capture_output=True)


def test_a_wrong_value_is_an_error_at_its_line(tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "content/doc.yaml": "title: T\nnotes: foot\nsections:\n  - title: S\n"
                            "    questions:\n      - question: Q?\n        answer: A.\n",
        "content/packs/p.yaml": "title: P\nnotes: bottom\nitems:\n  - document: ../doc.yaml\n",
    })
    result = briefing.check(project=project)
    messages = [f"{p.path}:{p.line}: {p.message}" for p in result.problems]
    assert any(m.endswith("doc.yaml:2: `notes` must be `end` (a notes appendix) or `page` "
                          "(footnotes at the foot of each page), not `foot`")
               for m in messages), messages
    assert any(m.endswith("p.yaml:2: `notes` must be one of after-each, at-end, page, not "
                          "`bottom`") for m in messages), messages


def test_a_packs_notes_setting_wins_over_its_documents() -> None:
    def doc(notes: str) -> Document:
        return Document(path=Path("d.yaml"), shown="d.yaml", name="d", title="D", sections=(),
                        notes=notes)

    def pack(on_page: bool | None) -> Pack:
        return Pack(path=Path("p.yaml"), shown="p.yaml", name="p", title="P", items=(),
                    notes_on_page=on_page)

    assert notes_on_page(pack(None), doc("page")) and not notes_on_page(pack(None), doc("end"))
    assert notes_on_page(pack(True), doc("end"))
    assert not notes_on_page(pack(False), doc("page"))  # after-each or at-end


@pytest.fixture(scope="module")
def packs(project: Path) -> dict[str, list[str]]:
    """Each pack's page texts, by pack name."""
    names = ("all-on-page", "each-its-own")
    result = briefing.build([project / f"content/packs/{n}.yaml" for n in names],
                            project=project)
    assert result.ok, result.failures
    texts = {}
    for output in result.outputs:
        count = len(PdfReader(output.pdf).pages)
        texts[output.pdf.stem] = [pdftotext(output.pdf, "-f", str(i), "-l", str(i))
                                  for i in range(1, count + 1)]
    return texts


def pack_outline(project: Path, name: str) -> list[list[str]]:
    reader = PdfReader(project / "out" / "packs" / f"{name}.pdf")
    return [[e.title for e in entry if not isinstance(e, list)]
            for entry in reader.outline if isinstance(entry, list)]


def note_and_call_pages(texts: list[str], title: str) -> tuple[int, int]:
    call = next(i for i, t in enumerate(texts) if f"Answer of {title}." in t)
    note = next(i for i, t in enumerate(texts) if f"Note belonging to {title}." in t)
    return call, note


def test_pack_notes_page_puts_every_documents_notes_on_the_page(
    packs: dict[str, list[str]], project: Path
) -> None:
    texts = packs["all-on-page"]
    for title in ("Plain", "Paged"):
        call, note = note_and_call_pages(texts, title)
        assert call == note, title
    assert pack_outline(project, "all-on-page") == [["Questions of Plain"],
                                                    ["Questions of Paged"]]


def test_without_a_pack_setting_each_document_decides(
    packs: dict[str, list[str]], project: Path
) -> None:
    texts = packs["each-its-own"]
    call, note = note_and_call_pages(texts, "Plain")  # a notes list, after its short body
    assert note == call and "Notes: Plain" in texts[note]
    call, note = note_and_call_pages(texts, "Paged")
    assert call == note
    assert pack_outline(project, "each-its-own") == [["Questions of Plain", "Notes"],
                                                     ["Questions of Paged"]]


def test_a_themes_own_footnote_area_keeps_notes_on_their_page(tmp_path: Path) -> None:
    """WeasyPrint compares the notes' bottom with their area's without tolerance; a top border
    with 2 mm of padding makes the two sums differ in the last bit, and then every note went
    to the next page (footnotes.css adds a hair of bottom padding against that)."""
    project = write_project(tmp_path, {
        "content/one.yaml": "title: One\nnotes: page\nsections:\n  - title: S\n    questions:\n"
                            "      - question: Q?\n        answer: CALLA.[^n]\n"
                            "footnotes:\n  n: NOTEA.\n",
        "styles/custom.css": "@page { @footnote { border-top: 0.5pt solid; padding-top: 2mm } }",
    })
    result = briefing.build(project=project)
    assert result.ok, result.failures
    placed = words(result.outputs[0].pdf)
    assert word(placed, "CALLA").page == word(placed, "NOTEA").page == 1
    assert result.outputs[0].pages == 2
