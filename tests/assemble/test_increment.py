"""A pack's copies as one finished file plus an update each (assemble/increment.py), read
back from the PDFs of real builds: the screen, print and booklet profiles and PDF/A, three
recipients each, built once for the module."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

import briefing
from briefing.assemble.increment import NotATemplate, placeholder_part, template_of

from conftest import pdftotext, write_project
from validators import READERS, page_failures

DOC = """\
title: Alpha
sections:
  - title: Questions
    questions:
      - question: First question?
        answer: The first answer.
      - question: Second question?
        answer: The second answer.
"""

PACK = """\
title: Stamped Pack
subtitle: Copies as updates
items:
  - document: ../alpha.yaml
recipients: people.csv
personalise_footer: true
"""

NAMES = ["Ana Recipient", "Bo Other", "Cyrus Third"]
PEOPLE = "name,organisation\n" + "".join(f"{n},Org {i}\n" for i, n in enumerate(NAMES))
VARIANTS = {"screen": ["--profile", "screen"], "print": ["--profile", "print"],
            "booklet": ["--profile", "booklet"], "pdf-a": ["--pdf-a"]}


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    project = write_project(tmp_path_factory.mktemp("stamped"), {
        "content/alpha.yaml": DOC,
        "content/packs/stamped.yaml": PACK,
        "content/packs/people.csv": PEOPLE,
    })
    built = {}
    for name, args in VARIANTS.items():
        profile = args[1] if args[0] == "--profile" else "screen"
        result = briefing.build([project / "content/packs/stamped.yaml"], project=project,
                                out_dir=project / "out" / name, profile=profile,
                                pdf_a=args == ["--pdf-a"])
        assert result.ok, result.failures
        built[name] = [o.pdf for o in result.outputs]
    return built


def _template(pdf: bytes) -> bytes:
    """The file up to its first end-of-file marker: what every copy shares."""
    return pdf[:pdf.index(b"%%EOF") + len(b"%%EOF")] + b"\n"


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_copy_is_the_same_file_plus_its_own_update(copies: dict[str, list[Path]],
                                                         variant: str) -> None:
    pdfs = [path.read_bytes() for path in copies[variant]]
    assert all(pdf.count(b"%%EOF") == 2 for pdf in pdfs)
    assert len({_template(pdf) for pdf in pdfs}) == 1
    identifiers = {PdfReader(io.BytesIO(pdf)).trailer["/ID"][0].original_bytes for pdf in pdfs}
    assert len(identifiers) == len(pdfs)


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_shared_file_names_no_one(copies: dict[str, list[Path]], variant: str,
                                      tmp_path: Path) -> None:
    """Read alone, the part every copy carries unchanged shows no recipient's line, and none
    of its streams holds a recipient's name: no copy carries another's."""
    shared = tmp_path / "shared.pdf"
    shared.write_bytes(_template(copies[variant][0].read_bytes()))
    assert "Prepared for" not in pdftotext(shared)
    reader = PdfReader(shared)
    for number in range(1, int(reader.trailer["/Size"])):
        found = reader.xref.get(0, {}).get(number)
        if found is None:
            continue
        obj = reader.get_object(number)
        data = obj.get_data() if hasattr(obj, "get_data") else b""
        assert not any(name.encode() in data for name in NAMES), number


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_copy_reads_with_its_own_name_only(copies: dict[str, list[Path]],
                                                variant: str) -> None:
    """qpdf finds nothing wrong; poppler, PDFium, pdf.js, pypdf and pdfminer read the copy's
    own "Prepared for" line on the cover and in the footer, and no one else's."""
    for path, name in zip(copies[variant], NAMES, strict=True):
        check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True,
                               check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        for reader, pages_of in READERS.items():
            text = " ".join(" ".join(pages_of(path)).split())
            assert text.count(f"Prepared for {name}, Org") >= 2, (reader, text[:300])
            others = [n for n in NAMES if n != name]
            assert not any(other in text for other in others), reader


def test_the_archival_copies_are_pdf_a_with_their_own_keywords(
        copies: dict[str, list[Path]]) -> None:
    for path, name in zip(copies["pdf-a"], NAMES, strict=True):
        assert page_failures(path, "3b") == []
        reader = PdfReader(path)
        assert reader.metadata is not None
        assert reader.metadata["/Keywords"] == f"Prepared for {name}"
        xmp = reader.root_object["/Metadata"].get_object().get_data().decode()
        assert f"<pdf:Keywords>Prepared for {name}</pdf:Keywords>" in xmp


def test_a_file_without_its_placeholders_is_not_a_template() -> None:
    slots = placeholder_part([(200.0, 100.0), (200.0, 100.0)]).pdf
    with pytest.raises(NotATemplate, match="0 of 2 placeholders"):
        template_of(slots, 2)  # placeholders as pages, not drawn as forms
    assert re.findall(rb"%briefing-slot (\d)", slots) == [b"0", b"1"]
