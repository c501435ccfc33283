"""`briefing build --pdf-a` and `briefing extract`: PDF/A-3b files that carry their sources.

veraPDF is not available here, so these tests check what can be checked with pypdf, poppler and
qpdf on the files the CLI writes: the XMP identification and its agreement with the document
information, the sRGB output intent, embedded fonts, no encryption or scripts, the sources as
associated files (listed by `pdfdetach`, byte for byte), `briefing extract` round trips, and
byte-identical rebuilds. Each build runs once per module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from briefing.errors import BriefingError
from briefing.finish.pdfa import NO_DATE, Source, archival, safe_relative

from conftest import run_briefing, write_project

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "pdfuaid": "http://www.aiim.org/pdfua/ns/id/",
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
}

BRIEF = """\
# A comment, so the bytes are not only what the model keeps
title: Archived briefing
subtitle: Kept for the record
organisation: Example <Org> & Partners
date: 2024-05-01
sections:
  - title: Questions
    questions:
      - question: What is kept?
        answer: |
          Everything, with a picture ![a red square](red.png) and
          a [link](https://example.org).[^n]
footnotes:
  n: A note.
"""

UNDATED = """\
title: Undated briefing
sections:
  - title: Only
    questions:
      - question: When?
        answer: No date at all.
"""

PACK = """\
title: Archived pack
date: 2024-06-02
items:
  - document: ../brief.yaml
  - document: ../undated.yaml
    title: The undated one
  - document: ../brief.yaml
    title: The first again
recipients: people.yaml
"""

PEOPLE = """\
- name: Ana Archivist
  email: ana@example.org
- name: Bo Keeper
"""

EPOCH = 1700000000  # 2023-11-14T22:13:20Z


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("pdfa"), {
        "content/brief.yaml": BRIEF,
        "content/undated.yaml": UNDATED,
        "content/packs/pack.yaml": PACK,
        "content/packs/people.yaml": PEOPLE,
    })
    Image.new("RGB", (40, 40), (200, 0, 0)).save(root / "content" / "red.png")
    return root


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def built(project: Path) -> Path:
    """One build of both documents and the pack (two recipients), as PDF/A."""
    out = project / "out" / "a"
    result = run_briefing("build", "content/brief.yaml", "content/undated.yaml",
                          "content/packs/pack.yaml", "--pdf-a", "--out", str(out), "-j", "1",
                          cwd=project, env=_env(), timeout=300)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def rebuilt(project: Path, built: Path) -> Path:
    out = project / "out" / "b"
    result = run_briefing("build", "content/brief.yaml", "content/packs/pack.yaml", "--pdf-a",
                          "--out", str(out), "-j", "1", cwd=project, env=_env(), timeout=300)
    assert result.returncode == 0, result.stderr
    return out


def xmp(reader: PdfReader) -> ET.Element:
    stream = reader.trailer["/Root"]["/Metadata"].get_object()
    assert stream["/Type"] == "/Metadata" and stream["/Subtype"] == "/XML"
    assert "/Filter" not in stream  # stored as plain text, readable without a PDF library
    data = stream.get_data()
    assert data.startswith(b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>')
    assert data.rstrip().endswith(b'<?xpacket end="r"?>')
    return ET.fromstring(re.sub(rb"<\?xpacket[^>]*\?>", b"", data))


def prop(root: ET.Element, path: str) -> str | None:
    found = root.find(f".//rdf:Description/{path}", NS)
    return found.text if found is not None else None


def xmp_time(text: str | None) -> dt.datetime:
    assert text is not None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def check_archival(pdf: Path, sources: dict[str, bytes]) -> PdfReader:
    """Everything a PDF/A-3b file with these sources must show; returns the reader."""
    raw = pdf.read_bytes()
    assert raw.startswith(b"%PDF-1.7\n%") and all(b > 127 for b in raw[10:14])
    reader = PdfReader(pdf)
    info = reader.metadata
    assert info is not None
    root = reader.trailer["/Root"]

    meta = xmp(reader)
    assert prop(meta, "pdfaid:part") == "3"
    assert prop(meta, "pdfaid:conformance") == "B"
    assert prop(meta, "dc:title/rdf:Alt/rdf:li") == info.title
    if info.author:
        assert prop(meta, "dc:creator/rdf:Seq/rdf:li") == info.author
    if info.subject:
        assert prop(meta, "dc:description/rdf:Alt/rdf:li") == info.subject
    assert prop(meta, "pdf:Producer") == info.producer
    assert prop(meta, "xmp:CreatorTool") == info.creator
    assert info.creation_date is not None and info.modification_date is not None
    assert xmp_time(prop(meta, "xmp:CreateDate")) == info.creation_date
    assert xmp_time(prop(meta, "xmp:ModifyDate")) == info.modification_date

    intents = root["/OutputIntents"]
    assert len(intents) == 1
    intent = intents[0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert "sRGB" in intent["/OutputConditionIdentifier"]
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3
    icc = profile.get_data()
    assert icc[36:40] == b"acsp" and icc[16:20] == b"RGB "  # an ICC profile for RGB

    identifier = reader.trailer["/ID"]
    assert len(identifier) == 2 and len(bytes(identifier[0].original_bytes)) == 16
    assert "/Encrypt" not in reader.trailer
    assert "/OpenAction" not in root and "/AA" not in root
    assert b"/JavaScript" not in raw and b"/JS " not in raw and b"/Launch" not in raw
    assert b"/Interpolate true" not in raw
    for page in reader.pages:
        for annot in page.get("/Annots", []):
            annot = annot.get_object()
            assert int(annot["/F"]) & 4 and not int(annot["/F"]) & (1 | 2 | 32)

    qpdf = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
    assert qpdf.returncode == 0, qpdf.stdout + qpdf.stderr
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts, "no fonts at all?"
    for row in fonts:
        # name type [type] encoding emb sub uni object ID: `emb` is the fifth column from the end
        assert row.split()[-5] == "yes", row
    info_text = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                               check=True).stdout
    assert re.search(r"^JavaScript:\s+no$", info_text, re.M)
    assert re.search(r"^Encrypted:\s+no$", info_text, re.M)

    listed = subprocess.run(["pdfdetach", "-list", str(pdf)], capture_output=True, text=True,
                            check=True).stdout
    assert sorted(re.findall(r"^\d+: (.+)$", listed, re.M)) == sorted(sources)
    specs = {spec.get_object()["/UF"]: spec.get_object() for spec in root["/AF"]}
    assert sorted(specs) == sorted(sources)
    for name, data in sources.items():
        spec = specs[name]
        assert spec["/AFRelationship"] == "/Source" and spec["/F"] == name
        stream = spec["/EF"]["/F"].get_object()
        assert stream["/Type"] == "/EmbeddedFile"
        assert stream["/Subtype"] == "/application/yaml"
        assert stream.get_data() == data
        params = stream["/Params"]
        assert params["/Size"] == len(data)
        assert bytes(params["/CheckSum"].original_bytes) == hashlib.md5(data).digest()
        assert params["/ModDate"] == info["/ModDate"]
    return reader


def test_document_is_pdfa_3b_with_its_source(project: Path, built: Path) -> None:
    pdf = built / "brief.pdf"
    reader = check_archival(pdf, {"content/brief.yaml": BRIEF.encode()})
    assert reader.metadata is not None
    assert reader.metadata.author == "Example <Org> & Partners"  # escaped in the XMP
    assert reader.metadata.creation_date == dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    # the merge's navigation survives the finishing
    assert reader.outline and reader.page_labels[0] == "Cover"
    assert reader.trailer["/Root"]["/Lang"] == "en"
    # WeasyPrint asks for the image to be interpolated, which PDF/A forbids: it no longer is
    assert b"/Subtype /Image" in pdf.read_bytes() and b"/Interpolate false" in pdf.read_bytes()


def test_pdfdetach_saves_the_exact_source(built: Path, tmp_path: Path) -> None:
    saved = tmp_path / "saved.yaml"
    subprocess.run(["pdfdetach", "-save", "1", "-o", str(saved), str(built / "brief.pdf")],
                   check=True, capture_output=True)
    assert saved.read_bytes() == BRIEF.encode()


def test_undated_document_uses_the_fixed_date(built: Path) -> None:
    reader = check_archival(built / "undated.pdf", {"content/undated.yaml": UNDATED.encode()})
    assert reader.metadata is not None
    assert reader.metadata["/CreationDate"] == NO_DATE
    assert reader.metadata.creation_date == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert prop(xmp(reader), "xmp:CreateDate") == "1970-01-01T00:00:00Z"


def test_pack_copies_carry_the_pack_and_each_document_once(built: Path) -> None:
    copies = sorted((built / "packs" / "pack").glob("*.pdf"))
    assert [c.name for c in copies] == ["ana-archivist.pdf", "bo-keeper.pdf"]
    sources = {"content/packs/pack.yaml": PACK.encode(), "content/brief.yaml": BRIEF.encode(),
               "content/undated.yaml": UNDATED.encode()}
    for copy in copies:
        reader = check_archival(copy, sources)
        # the recipients list is not embedded: no copy carries the other recipients' details
        assert b"ana@example.org" not in b"".join(
            s.get_object()["/EF"]["/F"].get_object().get_data()
            for s in reader.trailer["/Root"]["/AF"])


def test_extract_round_trips_a_document(built: Path, tmp_path: Path) -> None:
    result = run_briefing("extract", str(built / "brief.pdf"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["content/brief.yaml"]
    assert (tmp_path / "content" / "brief.yaml").read_bytes() == BRIEF.encode()


def test_extract_round_trips_a_pack_under_out(built: Path, tmp_path: Path) -> None:
    target = tmp_path / "restored"
    result = run_briefing("extract", str(built / "packs" / "pack" / "bo-keeper.pdf"),
                          "--out", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = {p.relative_to(target).as_posix(): p.read_bytes()
               for p in target.rglob("*") if p.is_file()}
    assert written == {"content/packs/pack.yaml": PACK.encode(),
                       "content/brief.yaml": BRIEF.encode(),
                       "content/undated.yaml": UNDATED.encode()}
    assert len(result.stdout.splitlines()) == 3


def test_extract_does_not_overwrite_without_force(built: Path, tmp_path: Path) -> None:
    existing = tmp_path / "content" / "brief.yaml"
    existing.parent.mkdir()
    existing.write_bytes(b"my edits\n")
    result = run_briefing("extract", str(built / "brief.pdf"), cwd=tmp_path)
    assert result.returncode == 1
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert existing.read_bytes() == b"my edits\n"
    forced = run_briefing("extract", str(built / "brief.pdf"), "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert existing.read_bytes() == BRIEF.encode()


def test_builds_are_byte_identical(built: Path, rebuilt: Path) -> None:
    assert (built / "brief.pdf").read_bytes() == (rebuilt / "brief.pdf").read_bytes()
    for copy in (built / "packs" / "pack").glob("*.pdf"):
        assert copy.read_bytes() == (rebuilt / "packs" / "pack" / copy.name).read_bytes()


@pytest.mark.parametrize("profile", ["email", "print", "booklet", "handout"])
def test_profiles_keep_pdfa(project: Path, profile: str) -> None:
    out = project / "out" / f"profile-{profile}"
    result = run_briefing("build", "content/undated.yaml", "--pdf-a", "--profile", profile,
                          "--out", str(out), "-j", "1", cwd=project,
                          env=_env(SOURCE_DATE_EPOCH=str(EPOCH)))
    assert result.returncode == 0, result.stderr
    pdf = out / "undated.pdf"
    reader = check_archival(pdf, {"content/undated.yaml": UNDATED.encode()})
    assert reader.metadata is not None
    assert reader.metadata.creation_date == dt.datetime.fromtimestamp(EPOCH, dt.UTC)
    assert prop(xmp(reader), "xmp:CreateDate") == "2023-11-14T22:13:20Z"
    if profile == "print":
        # the crop marks' registration colour no longer falls back to device CMYK
        qdf = subprocess.run(["qpdf", "--qdf", "--object-streams=disable", str(pdf), "-"],
                             capture_output=True, check=True).stdout
        assert b"/Separation" in qdf and b"/DeviceCMYK" not in qdf


# --- extract refuses what it should, with exit code 1 -------------------------------------

def _blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Title": "Crafted"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("name", [
    "../escape.yaml", "content/../../escape.yaml", "/tmp/escape.yaml", "C:/escape.yaml",
    "content\\..\\escape.yaml", "content/\x1b[31mred.yaml", "content/\u202egnp.yaml",
    "content//double.yaml", "./here.yaml", "",
])
def test_extract_refuses_names_that_leave_the_folder(tmp_path: Path, name: str) -> None:
    crafted = archival(_blank_pdf(), sources=[Source("content/fine.yaml", b"ok: 1\n"),
                                              Source(name, b"evil: true\n")], shown="x.pdf")
    (tmp_path / "x.pdf").write_bytes(crafted)
    out = tmp_path / "out"
    out.mkdir()
    result = run_briefing("extract", "x.pdf", "--out", "out", cwd=tmp_path)
    assert result.returncode == 1
    assert "refused the embedded file" in result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert not any(p.is_file() for p in tmp_path.rglob("*.yaml"))  # nothing, not even fine


def test_extract_refuses_a_symlink_out_of_the_folder(tmp_path: Path) -> None:
    crafted = archival(_blank_pdf(), sources=[Source("content/a.yaml", b"a: 1\n")],
                       shown="x.pdf")
    (tmp_path / "x.pdf").write_bytes(crafted)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "content").symlink_to(elsewhere)
    result = run_briefing("extract", "x.pdf", "--out", "out", cwd=tmp_path)
    assert result.returncode == 1 and "outside the output folder" in result.stderr
    assert not list(elsewhere.iterdir())


def test_extract_errors_are_clean(tmp_path: Path) -> None:
    (tmp_path / "notes.pdf").write_text("just text\n")
    (tmp_path / "plain.pdf").write_bytes(_blank_pdf())
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\ngarbage")
    for name, message in (("notes.pdf", "is not a PDF"),
                          ("plain.pdf", "has no embedded sources"),
                          ("broken.pdf", "not a readable PDF"),
                          ("missing.pdf", "cannot read")):
        result = run_briefing("extract", name, cwd=tmp_path)
        assert result.returncode == 1, name
        assert result.stderr.startswith(f"{name}: "), result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.pdf", "notes.pdf",
                                                          "plain.pdf"]


def test_safe_relative_keeps_ordinary_paths() -> None:
    assert safe_relative("content/packs/pack.yaml").parts == ("content", "packs", "pack.yaml")
    assert safe_relative("content/ឯកសារ.yaml").name == "ឯកសារ.yaml"


# --- the finishing step on crafted input (no rendering) ------------------------------------

def _pdf_with(page_setup: object = None, root_setup: object = None) -> bytes:
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    if callable(page_setup):
        page_setup(writer, page)
    if callable(root_setup):
        root_setup(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_scripts_and_automatic_actions_are_removed() -> None:
    def page_setup(writer: PdfWriter, page: DictionaryObject) -> None:
        script = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                   NameObject("/JS"): TextStringObject("app.alert(1)")})
        link = DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
            NameObject("/A"): script, NameObject("/F"): NumberObject(2)})
        page[NameObject("/Annots")] = ArrayObject([writer._add_object(link)])
        page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): script})

    def root_setup(writer: PdfWriter) -> None:
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {NameObject("/S"): NameObject("/JavaScript"),
             NameObject("/JS"): TextStringObject("app.alert(2)")})

    out = archival(_pdf_with(page_setup, root_setup), sources=[], shown="x.pdf")
    assert b"JavaScript" not in out and b"app.alert" not in out
    annot = PdfReader(io.BytesIO(out)).pages[0]["/Annots"][0].get_object()
    assert annot["/F"] == 4  # printable, no longer hidden


def test_a_font_that_is_not_embedded_is_refused() -> None:
    def page_setup(writer: PdfWriter, page: DictionaryObject) -> None:
        font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                                 NameObject("/Subtype"): NameObject("/Type1"),
                                 NameObject("/BaseFont"): NameObject("/Helvetica")})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): writer._add_object(font)})})

    with pytest.raises(BriefingError, match=r"x\.pdf: cannot be made an archival PDF.*"
                                            r"Helvetica is not embedded"):
        archival(_pdf_with(page_setup), sources=[], shown="x.pdf")


def test_a_device_cmyk_image_is_refused() -> None:
    def page_setup(writer: PdfWriter, page: DictionaryObject) -> None:
        image = DecodedStreamObject()
        image.set_data(b"\0\0\0\0")
        image.update({NameObject("/Type"): NameObject("/XObject"),
                      NameObject("/Subtype"): NameObject("/Image"),
                      NameObject("/Width"): NumberObject(1), NameObject("/Height"): NumberObject(1),
                      NameObject("/BitsPerComponent"): NumberObject(8),
                      NameObject("/ColorSpace"): NameObject("/DeviceCMYK")})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"):
            DictionaryObject({NameObject("/Im1"): writer._add_object(image)})})

    with pytest.raises(BriefingError, match="device CMYK"):
        archival(_pdf_with(page_setup), sources=[], shown="x.pdf")


def test_a_pdf_ua_claim_is_kept_with_its_extension_schema() -> None:
    def root_setup(writer: PdfWriter) -> None:
        stream = DecodedStreamObject()
        stream.set_data(b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.'
                        b'org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:pdfu'
                        b'aid="http://www.aiim.org/pdfua/ns/id/" pdfuaid:part="1"/></rdf:RDF>'
                        b'</x:xmpmeta>')
        writer._root_object[NameObject("/Metadata")] = writer._add_object(stream)
        writer.add_metadata({"/Title": "Tagged"})

    out = archival(_pdf_with(root_setup=root_setup), sources=[], shown="x.pdf")
    meta = xmp(PdfReader(io.BytesIO(out)))
    assert prop(meta, "pdfaid:part") == "3" and prop(meta, "pdfuaid:part") == "1"
    assert prop(meta, "dc:title/rdf:Alt/rdf:li") == "Tagged"
    namespaces = [e.text for e in meta.iter("{http://www.aiim.org/pdfa/ns/schema#}namespaceURI")]
    assert namespaces == [NS["pdfuaid"]]


def test_pdf_a_and_pdf_ua_together_claim_both(project: Path) -> None:
    """Section 2 of the issue (tagging) and this one meet in one file: the merged structure
    tree survives the archival step, and the XMP claims PDF/A-3b and PDF/UA-1."""
    pytest.importorskip("briefing.assemble.tags")
    out = project / "out" / "both"
    result = run_briefing("build", "content/undated.yaml", "--pdf-a", "--pdf-ua", "--out",
                          str(out), "-j", "1", cwd=project, env=_env())
    assert result.returncode == 0, result.stderr
    reader = check_archival(out / "undated.pdf", {"content/undated.yaml": UNDATED.encode()})
    meta = xmp(reader)
    assert prop(meta, "pdfaid:part") == "3" and prop(meta, "pdfuaid:part") == "1"
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    info = subprocess.run(["pdfinfo", str(out / "undated.pdf")], capture_output=True,
                          text=True, check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
