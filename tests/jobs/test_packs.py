"""Packs: several documents and a supplied PDF merged, numbered and linked as one; per-recipient
copies with a manifest. One pack is built once for the module and read back."""

from __future__ import annotations

import csv
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

import briefing
from briefing.assemble import merge
from briefing.jobs import parts

from conftest import pdftotext, write_project

DOC = """\
title: {title}
subtitle: Part of the pack
sections:
  - title: Questions of {title}
    questions:
      - question: Shared question?
        answer: Answer of {title}.[^n]
      - question: Second of {title}?
        answer: More of {title}.
footnotes:
  n: Note belonging to {title}.
"""

PACK = """\
title: Test Pack
subtitle: Two documents and an attachment
date: 2026-05-04
classification: Restricted
notes: {notes}
items:
  - document: ../alpha.yaml
  - document: ../beta.yaml
    title: Beta, as named in the pack
  - pdf: attached.pdf
    title: The attachment
recipients: {recipients}
personalise_footer: true
"""

RECIPIENTS = """\
- name: Alex Example
  organisation: First Org
  email: alex@example.org
- name: Alex Example
  organisation: Second Org
  email: alex2@example.org
- name: "Ada / ../Lovelace"
  email: ada@example.org
"""


def attachment_pdf() -> bytes:
    import weasyprint

    return weasyprint.HTML(string="""
        <style>@page { size: A4; margin: 30mm }</style>
        <p>ATTACHED PAGE ONE</p><p style="break-before: page">ATTACHED PAGE TWO</p>
        """).write_pdf()


def make_pack(root: Path, notes: str, recipients: str | None) -> Path:
    files: dict[str, str | bytes] = {
        "content/alpha.yaml": DOC.format(title="Alpha"),
        "content/beta.yaml": DOC.format(title="Beta"),
        "content/packs/attached.pdf": attachment_pdf(),
        "content/packs/test-pack.yaml": PACK.format(
            notes=notes, recipients="people.yaml" if recipients else "~"),
    }
    if recipients:
        files["content/packs/people.yaml"] = recipients
    return write_project(root, files)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[briefing.Output]]:
    project = make_pack(tmp_path_factory.mktemp("pack"), "at-end", RECIPIENTS)
    result = briefing.build([project / "content/packs/test-pack.yaml"], project=project)
    assert result.ok, result.failures
    return project, list(result.outputs)


@pytest.fixture(scope="module")
def copy(built: tuple[Path, list[briefing.Output]]) -> Path:
    return built[1][0].pdf


@pytest.fixture(scope="module")
def texts(copy: Path) -> list[str]:
    count = len(PdfReader(copy).pages)
    return [pdftotext(copy, "-f", str(i), "-l", str(i)) for i in range(1, count + 1)]


def page_of(reader: PdfReader, ref: object) -> int:
    return next(i for i, p in enumerate(reader.pages) if p.indirect_reference == ref)


def test_one_copy_per_recipient_with_safe_distinct_names(built) -> None:  # type: ignore[no-untyped-def]
    project, outputs = built
    folder = project / "out" / "packs" / "test-pack"
    names = sorted(p.name for p in folder.glob("*.pdf"))
    assert names == ["ada-lovelace.pdf", "alex-example-second-org.pdf", "alex-example.pdf"]
    assert all(o.pdf.parent == folder for o in outputs)
    assert not list((project / "out").glob("**/*.tmp"))


def test_manifest(built) -> None:  # type: ignore[no-untyped-def]
    project, _ = built
    folder = project / "out" / "packs" / "test-pack"
    rows = list(csv.DictReader((folder / "manifest.csv").open(encoding="utf-8")))
    assert [r["email"] for r in rows] == ["alex@example.org", "alex2@example.org",
                                          "ada@example.org"]
    for row in rows:
        assert int(row["size"]) == (folder / row["file"]).stat().st_size
    assert rows[1]["organisation"] == "Second Org"


def test_prepared_for_on_cover_and_footer(texts: list[str]) -> None:
    assert "Prepared for Alex Example, First Org" in " ".join(texts[0].split())
    assert "Prepared for Alex Example, First Org" in texts[2]


def test_continuous_numbers_and_labels(copy: Path, texts: list[str]) -> None:
    reader = PdfReader(copy)
    total = len(reader.pages) - 1
    assert reader.page_labels == ["Cover", *[str(n) for n in range(1, total + 1)]]
    for number, text in enumerate(texts[1:], start=1):
        assert f"Page {number} of {total}" in text
    attached = [i for i, t in enumerate(texts) if "ATTACHED PAGE" in t]
    assert len(attached) == 2 and all(f"Page {i} of" in texts[i] for i in attached)


def test_contents_numbers_and_links(copy: Path, texts: list[str]) -> None:
    reader = PdfReader(copy)
    contents = texts[1]
    assert "Contents" in contents
    for title in ["Alpha", "Beta, as named in the pack", "The attachment", "Second of Alpha?",
                  "Second of Beta?"]:
        assert title in contents
    links = [a.get_object() for a in reader.pages[1].get("/Annots", [])]
    targets = sorted({page_of(reader, link["/Dest"][0]) for link in links if "/Dest" in link})
    starts = [next(i for i, t in enumerate(texts) if marker in t)
              for marker in ("Answer of Alpha.", "Answer of Beta.", "ATTACHED PAGE ONE")]
    assert targets == starts
    checked = 0
    for line in contents.splitlines():
        match = re.match(r"^(.*?\?)[\s.]*(\d+)$", line.strip())
        if match:
            number = int(match[2])
            assert reader.page_labels[number] == str(number)
            assert match[1] in texts[number], (match[1], number)
            checked += 1
    assert checked == 4  # every question of both documents


def test_outline_per_item(copy: Path) -> None:
    reader = PdfReader(copy)
    top = [i.title for i in reader.outline if not isinstance(i, list)]
    assert top == ["Cover", "Contents", "Alpha", "Beta, as named in the pack", "The attachment"]
    nested = [i for i in reader.outline if isinstance(i, list)]
    assert [e.title for e in nested[0] if not isinstance(e, list)] == ["Questions of Alpha",
                                                                      "Notes"]


def test_footnotes_link_within_their_own_document(copy: Path, texts: list[str]) -> None:
    reader = PdfReader(copy)
    for name in ("Alpha", "Beta"):
        call_page = next(i for i, t in enumerate(texts) if f"Answer of {name}." in t)
        note_page = next(i for i, t in enumerate(texts) if f"Note belonging to {name}." in t)
        dests = [page_of(reader, a.get_object()["/Dest"][0])
                 for a in reader.pages[call_page].get("/Annots", []) if "/Dest" in a.get_object()]
        assert note_page in dests
    # notes gathered at the end: after the attachment
    attachment = max(i for i, t in enumerate(texts) if "ATTACHED PAGE" in t)
    assert all(i > attachment for i, t in enumerate(texts) if "Note belonging to" in t)


def test_valid_pdf(copy: Path) -> None:
    subprocess.run(["qpdf", "--check", str(copy)], check=True, capture_output=True)


def test_overlays_are_forms_and_one_stamp_per_copy(copy: Path) -> None:
    """The running header and footer and the "Prepared for" stamp are form XObjects drawn
    from the page content (not merged into it): one folio form per numbered page, and one
    stamp form that every numbered page of the copy draws; the cover draws only its own
    "Prepared for" line (a cover shared by every copy), none of the others."""
    reader = PdfReader(copy)
    cover, *numbered = reader.pages
    on_cover = re.findall(rb"q (/BriefingOverlay\S+) Do Q", cover.get_contents().get_data())
    assert len(on_cover) == 1
    cover_stamp = cover["/Resources"]["/XObject"].raw_get(on_cover[0].decode())
    stamps, folios = set(), set()
    for page in numbered:
        forms = page["/Resources"]["/XObject"]
        drawn = re.findall(rb"q (/BriefingOverlay\S+) Do Q", page.get_contents().get_data())
        folio, stamp = (forms.raw_get(name.decode()) for name in drawn)
        assert all(f.get_object()["/Subtype"] == "/Form" for f in (folio, stamp))
        folios.add(folio.idnum)
        stamps.add(stamp.idnum)
    assert len(folios) == len(numbered) and len(stamps) == 1
    assert cover_stamp.idnum not in folios | stamps


def test_shared_parts_rendered_and_parsed_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered_parts: list[str]) -> None:
    """Three recipients cost the same WeasyPrint runs as one (covers and folios are batched),
    and the same PDF parses: each part is read once, whichever copies use it."""
    calls = rendered_parts
    parses: list[bytes] = []
    real_open = merge.open_pdf

    def reading(pdf: bytes, **kwargs: bool) -> PdfReader:
        parses.append(pdf)
        return real_open(pdf, **kwargs)

    monkeypatch.setattr(merge, "open_pdf", reading)
    project = make_pack(tmp_path / "three", "after-each", RECIPIENTS)
    assert briefing.build([project / "content/packs/test-pack.yaml"], project=project).ok
    with_three, parsed_with_three = list(calls), list(parses)
    calls.clear()
    parses.clear()
    single = RECIPIENTS.split("- name: Alex Example\n  organisation: Second Org")[0]
    project = make_pack(tmp_path / "one", "after-each", single.rsplit("\n", 1)[0] + "\n")
    assert briefing.build([project / "content/packs/test-pack.yaml"], project=project).ok
    assert len(with_three) == len(calls)
    # one cover for every copy, and one run of the copies' "Prepared for" lines
    assert with_three.count("cover") == 1 and with_three.count("cover stamps") == 1
    assert "covers" not in with_three
    assert len(parsed_with_three) == len(parses)
    assert len(parses) == len(set(parses))  # no part's bytes parsed twice


def test_pack_without_recipients(tmp_path: Path) -> None:
    project = make_pack(tmp_path, "after-each", None)
    result = briefing.build([project / "content/packs/test-pack.yaml"], project=project)
    assert result.ok, result.failures
    (output,) = result.outputs
    assert output.pdf == project / "out" / "packs" / "test-pack.pdf"
    texts = pdftotext(output.pdf)
    assert "Prepared for" not in texts
    # notes after each document: Alpha's notes come before Beta's body, on the page of
    # Alpha's last answer (they flow on after it in its layout, titled with its name)
    assert texts.index("Note belonging to Alpha.") < texts.index("Answer of Beta.")
    pages = texts.split("\f")
    holding = next(page for page in pages if "Note belonging to Alpha." in page)
    assert "More of Alpha." in holding and "Notes: Alpha" in holding


def test_covers_rendered_in_batches_each_copy_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered_parts: list[str]) -> None:
    """Covers are laid out a batch of recipients at a time (so memory stays flat however many
    recipients there are); each copy still has exactly its own recipient's cover."""
    from briefing.jobs import pack

    calls = rendered_parts
    monkeypatch.setattr(pack, "COVERS_PER_RUN", 2)
    project = make_pack(tmp_path, "after-each", RECIPIENTS)
    result = briefing.build([project / "content/packs/test-pack.yaml"], project=project)
    assert result.ok, result.failures
    assert calls.count("cover") == 2 and calls.count("cover stamps") == 2
    expected = ["Alex Example, First Org", "Alex Example, Second Org", "Ada / ../Lovelace"]
    for output, name in zip(result.outputs, expected, strict=True):
        cover = " ".join(pdftotext(output.pdf, "-f", "1", "-l", "1").split())
        assert f"Prepared for {name}" in cover
        others = [n for n in expected if n != name]
        assert not any(f"Prepared for {n}" in cover for n in others)
        assert pdftotext(output.pdf, "-f", "2", "-l", "2").count("Prepared for") == 1


def test_the_side_of_each_page_follows_the_print_blanks_or_the_booklet_order() -> None:
    """jobs/parts.py: which side of the sheet each page of a merged PDF is printed on, before
    the print profile's blanks are inserted (cover, a 2-page contents, a 3-page item)."""
    a4 = parts.PAPERS["a4"]
    starts = (0, 1, 3)
    printed = parts.page_sides(replace(a4, duplex="print"), 6, starts)
    # blanks after the cover and after the contents: every start on a recto
    assert printed == ["recto", "recto", "verso", "recto", "verso", "recto"]
    booklet = parts.page_sides(replace(a4, duplex="booklet"), 6, starts)
    assert booklet == ["recto", "verso"] * 3
    assert parts.page_sides(a4, 6, starts) == [None] * 6
    for paper in (replace(a4, duplex="print"), replace(a4, duplex="booklet")):
        whole = parts.page_sides(paper, 6, starts)
        assert [parts.side_at(paper, i, starts) for i in range(6)] == whole


SHARED_RECIPIENTS = """\
- name: Al
- name: Bartholomew Alexander Featherstonehaugh-Montgomery
  organisation: The International Organisation for Very Long Names and Their Holders
- name: Chandra Recipient
  organisation: Third Org
"""


def _cover_words(pdf: Path) -> list[tuple[str, float, float]]:
    """The words of a copy's cover (`pdftotext -bbox`), with where each starts, in points."""
    xml = pdftotext(pdf, "-f", "1", "-l", "1", "-bbox")
    return [(text, round(float(x), 1), round(float(y), 1))
            for x, y, text in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)<',
                                         xml)]


def test_one_cover_for_every_copy_with_each_line_where_its_own_cover_has_it(
        tmp_path: Path, rendered_parts: list[str]) -> None:
    """The built-in cover is laid out once for every copy and each recipient's "Prepared for"
    line is stamped into the room it keeps: every word of every copy's cover lands where a
    cover laid out for that copy alone puts it (a project's own copy of the template, which
    lays covers out per copy, is the yardstick), a two-line name included."""
    from briefing.render.theme import builtin_theme

    calls = rendered_parts
    shared = make_pack(tmp_path / "shared", "after-each", SHARED_RECIPIENTS)
    result = briefing.build([shared / "content/packs/test-pack.yaml"], project=shared)
    assert result.ok, result.failures
    shared_copies = [o.pdf for o in result.outputs]
    assert calls.count("cover") == 1 and calls.count("cover stamps") == 1
    assert "covers" not in calls
    calls.clear()
    own = make_pack(tmp_path / "own", "after-each", SHARED_RECIPIENTS)
    template = builtin_theme() / "templates" / "pack_cover.html.j2"
    (own / "templates").mkdir()
    (own / "templates" / "pack_cover.html.j2").write_text(template.read_text("utf-8"), "utf-8")
    result = briefing.build([own / "content/packs/test-pack.yaml"], project=own)
    assert result.ok, result.failures
    assert calls.count("covers") == 1 and "cover stamps" not in calls
    lines = []
    for stamped, laid_out in zip(shared_copies, [o.pdf for o in result.outputs], strict=True):
        words = _cover_words(stamped)
        assert words and sorted(words) == sorted(_cover_words(laid_out))
        lines.append(" ".join(t for t, _, y in words if y == next(
            y for t, _, y in words if t == "Prepared")))
    assert lines[0] == "Prepared for Al"
    assert lines[1].startswith("Prepared for Bartholomew")  # its first line of two
    assert lines[2] == "Prepared for Chandra Recipient, Third Org"
    cover = " ".join(pdftotext(shared_copies[1], "-f", "1", "-l", "1").split())
    assert "Very Long Names and Their Holders" in cover and "Prepared for Al " not in cover
