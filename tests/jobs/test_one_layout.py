"""A document is one layout: its cover, body and notes (and a booklet's back cover) laid out
by one WeasyPrint render and placed as the cover's and the body's pages (jobs/document.py).

Each build here is compared with the same document laid out in parts, which a project's own
cover stylesheet forces: every word on every page at the same place, the same page labels,
outline, links and metadata, and the fonts embedded once instead of once per part."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

import briefing
from tests.conftest import REPO, pdftotext

SEED = REPO / "content" / "cambodia-faq.yaml"
#: the built-in cover stylesheet as a project's own: the same rules, laid out in parts
OWN_COVER_CSS = (REPO / "styles" / "cover.css").read_text(encoding="utf-8")
#: a cover that runs over two pages
TWO_PAGE_COVER = ".part-cover::after { content: 'Second cover page'; display: block; " \
                 "break-before: page; }\n"

#: (name, profile, the project's custom.css)
BUILDS = {
    "seed": ("screen", ""),
    "booklet": ("booklet", ""),
    "two-page cover, print": ("print", TWO_PAGE_COVER),
}


def build(root: Path, profile: str, custom: str, in_parts: bool) -> tuple[Path, list[str]]:
    """The seed built in a project of its own; what WeasyPrint laid out, by part name."""
    project = root / ("parts" if in_parts else "one")
    (project / "content").mkdir(parents=True)
    shutil.copy(SEED, project / "content" / SEED.name)
    (project / "styles").mkdir()
    if custom:
        (project / "styles" / "custom.css").write_text(custom, encoding="utf-8")
    if in_parts:
        (project / "styles" / "cover.css").write_text(OWN_COVER_CSS, encoding="utf-8")
    from briefing.jobs import parts

    laid_out: list[str] = []
    real = parts.render_pdf

    def counting(html: str, **kwargs: object) -> object:
        laid_out.append(str(kwargs["name"]))
        return real(html, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parts, "render_pdf", counting)
        result = briefing.build(project=project, profile=profile)
    assert result.ok, result.failures
    return result.outputs[0].pdf, laid_out


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory
           ) -> dict[str, dict[bool, tuple[Path, list[str]]]]:
    found: dict[str, dict[bool, tuple[Path, list[str]]]] = {}
    for name, (profile, custom) in BUILDS.items():
        root = tmp_path_factory.mktemp(re.sub(r"\W+", "-", name))
        found[name] = {in_parts: build(root, profile, custom, in_parts)
                       for in_parts in (False, True)}
    return found


def words(pdf: Path) -> list[list[tuple[str, ...]]]:
    """Every page's words with their boxes (pdftotext -bbox)."""
    html = pdftotext(pdf, "-bbox")
    return [re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                       r'yMax="([\d.]+)">([^<]*)</word>', page)
            for page in html.split("<page ")[1:]]


def outline(reader: PdfReader) -> Iterator[tuple[int, str, int]]:
    def walk(items: list[object], depth: int) -> Iterator[tuple[int, str, int]]:
        for item in items:
            if isinstance(item, list):
                yield from walk(item, depth + 1)
            else:
                yield depth, item.title, reader.get_destination_page_number(item)  # type: ignore[attr-defined,arg-type]
    return walk(reader.outline, 0)


def links(reader: PdfReader) -> list[tuple[int, tuple[float, ...], object]]:
    found = []
    for index, page in enumerate(reader.pages):
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            rect = tuple(round(float(v), 1) for v in annot["/Rect"])
            dest = annot.get("/Dest")
            target = (reader.get_page_number(dest[0].get_object()), round(float(dest[3]), 1)) \
                if dest is not None else str(annot["/A"].get("/URI"))
            found.append((index, rect, target))
    return found


def fonts(pdf: Path) -> list[str]:
    listing = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True,
                             text=True).stdout.splitlines()[2:]
    return [line.split()[0].split("+", 1)[-1] for line in listing]


@pytest.mark.parametrize("name", list(BUILDS))
def test_laid_out_once_unless_a_part_is_forced(
        builds: dict[str, dict[bool, tuple[Path, list[str]]]], name: str) -> None:
    (_, one), (_, in_parts) = builds[name][False], builds[name][True]
    if name.startswith("two-page cover"):
        # printed double-sided, the body's sides follow the cover's length: laid out again
        # once the cover is seen to take two pages
        assert one == ["document", "document"]
    else:
        assert one == ["document"]
    assert in_parts == ["cover", "body", *(["back cover"] if name == "booklet" else [])]


@pytest.mark.parametrize("name", list(BUILDS))
def test_the_same_pages_as_in_parts(
        builds: dict[str, dict[bool, tuple[Path, list[str]]]], name: str) -> None:
    one, in_parts = builds[name][False][0], builds[name][True][0]
    mine, theirs = words(one), words(in_parts)
    assert len(mine) == len(theirs)
    for number, (page, expected) in enumerate(zip(mine, theirs, strict=True), start=1):
        assert page == expected, f"page {number}"
    a, b = PdfReader(one), PdfReader(in_parts)
    assert a.page_labels == b.page_labels
    assert list(outline(a)) == list(outline(b))
    assert links(a) == links(b)
    assert a.metadata == b.metadata


@pytest.mark.parametrize("name", list(BUILDS))
def test_fonts_embedded_once(
        builds: dict[str, dict[bool, tuple[Path, list[str]]]], name: str) -> None:
    one, in_parts = fonts(builds[name][False][0]), fonts(builds[name][True][0])
    assert sorted(one) == sorted(set(one)) == sorted(set(in_parts))
    assert len(in_parts) > len(one)  # once per part: what the one layout saves
    assert builds[name][False][0].stat().st_size < builds[name][True][0].stat().st_size


def test_the_covers_are_not_numbered(
        builds: dict[str, dict[bool, tuple[Path, list[str]]]]) -> None:
    pdf = builds["seed"][False][0]
    reader = PdfReader(pdf)
    assert reader.page_labels == ["Cover", "1", "2", "3"]
    assert "Page" not in pdftotext(pdf, "-f", "1", "-l", "1")  # no footer on the cover
    for number in (1, 2, 3):  # "of 3": the body's pages, not the file's 4
        page = pdftotext(pdf, "-f", str(number + 1), "-l", str(number + 1))
        assert f"Page {number} of 3" in page


def test_a_two_page_cover_moves_the_body_to_its_sides(
        builds: dict[str, dict[bool, tuple[Path, list[str]]]]) -> None:
    pdf = builds["two-page cover, print"][False][0]
    reader = PdfReader(pdf)
    labels = reader.page_labels
    assert labels[:3] == ["Cover 1", "Cover 2", "1"]  # the body starts on a recto: no blank
    width = float(reader.pages[2].mediabox.width)
    for index, label in enumerate(labels[2:], start=2):
        if not label.isdigit():
            continue
        [footer] = [w for w in words(pdf)[index] if w[4] == "Page"]
        # the number on the outer edge: right on a recto (odd), left on a verso
        assert (float(footer[0]) > width / 2) == (int(label) % 2 == 1), f"page {label}"
    assert "Second cover page" in pdftotext(pdf, "-f", "2", "-l", "2")


def test_a_booklets_back_cover_is_not_counted(
        builds: dict[str, dict[bool, tuple[Path, list[str]]]]) -> None:
    pdf = builds["booklet"][False][0]
    text = pdftotext(pdf)
    found = [(int(x), int(y)) for x, y in re.findall(r"Page (\d+) of (\d+)", text)]
    total = len(found)  # the pages with a footer: the body's, neither cover's
    assert total >= 3 and sorted(found) == [(n, total) for n in range(1, total + 1)]
    # and the back cover is there: the same pages as the parts, whose back cover is its own
    # layout (test_laid_out_once_unless_a_part_is_forced, test_the_same_pages_as_in_parts)


def test_a_body_template_without_room_for_the_cover_is_laid_out_in_parts(
        tmp_path: Path, rendered_parts: list[str]) -> None:
    """A project's own body.html.j2 that does not fill base.html.j2's `content` block gives
    document.html.j2 nowhere to put the cover: the cover is laid out on its own."""
    body = ('<!DOCTYPE html><html lang="{{ doc.lang }}"><head><style>{{ css }}</style></head>'
            '<body>{% for s in doc.sections %}<h2 id="{{ s.id }}">{{ s.title }}</h2>'
            '{% for q in s.questions %}<h3 id="q-{{ q.id }}">{{ q.question }}</h3>'
            '{{ answers[q.id] }}{% endfor %}{% endfor %}</body></html>\n')
    project = tmp_path / "p"
    (project / "content").mkdir(parents=True)
    (project / "templates").mkdir()
    (project / "templates" / "body.html.j2").write_text(body, encoding="utf-8")
    (project / "content" / "doc.yaml").write_text(
        "title: Own body\nsections:\n  - title: Questions\n    questions:\n"
        "      - question: Is the cover there?\n        answer: On a page of its own.\n",
        encoding="utf-8")
    result = briefing.build(project=project)
    assert result.ok, result.failures
    assert rendered_parts == ["cover", "body"]
    pdf = result.outputs[0].pdf
    assert PdfReader(pdf).page_labels == ["Cover", "1"]
    assert "Own body" in pdftotext(pdf, "-f", "1", "-l", "1")  # the built-in cover
    assert "On a page of its own." in pdftotext(pdf, "-f", "2", "-l", "2")


def test_a_macros_override_without_the_cover_id_names_macros(tmp_path: Path) -> None:
    """In one layout the cover is macros.html.j2's cover_page: an override that drops its id
    is named, not the cover template the document does not use."""
    macros = (REPO / "templates" / "macros.html.j2").read_text(encoding="utf-8")
    assert '<div class="cover" id="{{ id }}">' in macros
    project = tmp_path / "p"
    (project / "content").mkdir(parents=True)
    (project / "templates").mkdir()
    (project / "templates" / "macros.html.j2").write_text(
        macros.replace('<div class="cover" id="{{ id }}">', '<div class="cover">'),
        encoding="utf-8")
    shutil.copy(SEED, project / "content" / SEED.name)
    result = briefing.build(project=project)
    assert not result.ok
    [failure] = result.failures
    message = str(failure)
    assert "templates/macros.html.j2" in message and 'id="cover"' in message, message
