"""Supplied cover PDFs are untrusted: broken ones fail with a message naming the file, and
nothing active (scripts, automatic actions, forms, annotations, embedded files) from them
reaches the output. Every fixture PDF is made here with pypdf or by hand."""

from __future__ import annotations

import io
import struct
import subprocess
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from briefing import api
from briefing.assemble.supplied import MAX_STREAM_BYTES, clean_pdf
from briefing.errors import BriefingError
from briefing.jobs.pipeline import build_document
from tests.conftest import pdftotext, run_briefing, write_project
from tests.pdf_samples import qpdf_check

DOCUMENT = """\
title: A briefing with a designed cover
date: 2024-03-01
cover: cover.pdf
sections:
  - title: Questions
    questions:
      - question: What is this?
        answer: The body, after the designed cover.
"""

SECRET = b"SECRET-ATTACHMENT-CONTENT"
SCRIPT = "app.alert('from the cover')"


def cover_writer(text: str = "DESIGNED COVER") -> PdfWriter:
    """One A4 page that says `text` in Helvetica."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    }))
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/Font"): DictionaryObject({NameObject("/F1"): font}),
    })
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 30 Tf 60 600 Td ({text}) Tj ET\n".encode())
    page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
    return writer


def to_bytes(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def name(value: str) -> NameObject:
    return NameObject(value)


def js_action(code: str = SCRIPT) -> DictionaryObject:
    return DictionaryObject({name("/Type"): name("/Action"), name("/S"): name("/JavaScript"),
                             name("/JS"): TextStringObject(code)})


def hostile_cover() -> bytes:
    """A cover with everything a PDF can carry that acts or embeds, in the obvious places and
    in hidden ones (under a private key of a form XObject, an image's external file)."""
    writer = cover_writer()
    page = writer.pages[0]
    writer.add_attachment("secret.txt", SECRET)  # /Names /EmbeddedFiles
    root = writer._root_object
    root["/Names"][name("/JavaScript")] = DictionaryObject({  # type: ignore[index]
        name("/Names"): ArrayObject([TextStringObject("start"), writer._add_object(js_action())])})
    root[name("/OpenAction")] = writer._add_object(js_action())
    root[name("/AA")] = DictionaryObject({name("/WC"): js_action()})
    root[name("/AcroForm")] = DictionaryObject({name("/Fields"): ArrayObject(),
                                                name("/XFA"): TextStringObject("<xdp/>")})
    page[name("/AA")] = DictionaryObject({name("/O"): js_action()})
    filespec = writer._add_object(DictionaryObject({
        name("/Type"): name("/Filespec"), name("/F"): TextStringObject("secret.txt"),
        name("/EF"): DictionaryObject({name("/F"): writer._add_object(_embedded())}),
    }))
    annots = ArrayObject()
    for subtype, extra in [
        ("/Link", {name("/A"): js_action()}),
        ("/Link", {name("/A"): DictionaryObject({
            name("/S"): name("/Launch"), name("/F"): TextStringObject("/bin/sh")})}),
        ("/Link", {name("/A"): DictionaryObject({
            name("/S"): name("/URI"), name("/URI"): TextStringObject("javascript:alert(1)")})}),
        ("/FileAttachment", {name("/FS"): filespec}),
        ("/Widget", {name("/FT"): name("/Btn"), name("/AA"): DictionaryObject(
            {name("/D"): js_action()})}),
    ]:
        annots.append(writer._add_object(DictionaryObject({
            name("/Type"): name("/Annot"), name("/Subtype"): name(subtype),
            name("/Rect"): ArrayObject([FloatObject(v) for v in (50, 50, 150, 80)]),
            **extra,
        })))
    page[name("/Annots")] = annots
    # hidden: a form XObject with a private key leading to a script and a file, and an image
    # whose data would come from a file elsewhere
    form = DecodedStreamObject()
    form.set_data(b"")
    form.update({
        name("/Type"): name("/XObject"), name("/Subtype"): name("/Form"),
        name("/BBox"): ArrayObject([NumberObject(0)] * 4),
        name("/PieceInfo"): DictionaryObject({name("/Private"): js_action()}),
        name("/Hidden"): js_action(),
        name("/Stash"): filespec,
    })
    image = DecodedStreamObject()
    image.set_data(b"\x00")
    image.update({
        name("/Type"): name("/XObject"), name("/Subtype"): name("/Image"),
        name("/Width"): NumberObject(1), name("/Height"): NumberObject(1),
        name("/ColorSpace"): name("/DeviceGray"), name("/BitsPerComponent"): NumberObject(8),
        name("/F"): DictionaryObject({name("/Type"): name("/Filespec"),
                                      name("/F"): TextStringObject("/etc/passwd")}),
    })
    page["/Resources"][name("/XObject")] = DictionaryObject({  # type: ignore[index]
        name("/Fm1"): writer._add_object(form), name("/Im1"): writer._add_object(image)})
    return to_bytes(writer)


def _embedded() -> StreamObject:
    stream = DecodedStreamObject()
    stream.set_data(SECRET)
    stream[name("/Type")] = name("/EmbeddedFile")
    return stream


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF written by hand (for structures pypdf would refuse to write), object 1 the root."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def bomb(megabytes: int) -> bytes:
    """A zlib stream of `megabytes` MB of zeros in about 1 KB per MB, made without compressing
    them all: after a full flush the compressor's output for the same input repeats."""
    zeros = bytes(1024 * 1024)
    compressor = zlib.compressobj(9)
    head = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(megabytes):
        checksum = zlib.adler32(zeros, checksum)
    return head + block * (megabytes - 1) + b"\x03\x00" + struct.pack(">I", checksum)


def bomb_cover(megabytes: int = 300) -> bytes:
    data = bomb(megabytes)
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(data), data),
    ])


def parent_loop(media_box: bytes) -> bytes:
    """The page tree's /Parent links go round in a circle (the /Kids do not)."""
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Parent 4 0 R >>",
        b"<< /Type /Page /Parent 2 0 R %s>>" % media_box,
        b"<< /Type /Pages /Kids [2 0 R] /Count 1 /Parent 2 0 R >>",
    ])


def encrypted(user: str, owner: str) -> bytes:
    writer = cover_writer()
    writer.encrypt(user_password=user, owner_password=owner, algorithm="RC4-128")
    return to_bytes(writer)


def zero_pages() -> bytes:
    return to_bytes(PdfWriter())


BROKEN: dict[str, tuple[Callable[[], bytes], str]] = {
    "garbage": (lambda: b"this is not a PDF at all\n" * 40, "not a PDF"),
    "truncated": (lambda: to_bytes(cover_writer())[:300], "not a readable PDF"),
    "empty": (lambda: b"", "not a PDF"),
    "user password": (lambda: encrypted("secret", "owner"), "password"),
    "no pages": (zero_pages, "no pages"),
    "kids loop": (lambda: raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Pages /Kids [2 0 R] /Count 1 /Parent 2 0 R >>",
    ]), "not a readable PDF"),
    "page is its own parent's kid": (lambda: raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>",
    ]), "not a readable PDF"),
    "parent loop, no size": (lambda: parent_loop(b""), "/MediaBox"),
    "impossible page size": (lambda: raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 99999999 0] >>",
    ]), "size"),
    "decompression bomb": (bomb_cover, "decompress"),
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_project(tmp_path / "project", {"content/doc.yaml": DOCUMENT})
    monkeypatch.chdir(root)
    return root


def build(project: Path) -> api.Output:
    return build_document(project / "content" / "doc.yaml", project=project,
                              out_dir=project / "out")


@pytest.mark.parametrize("kind", list(BROKEN))
def test_broken_cover_is_an_error_naming_the_file(project: Path, kind: str) -> None:
    make, expected = BROKEN[kind]
    (project / "content" / "cover.pdf").write_bytes(make())
    started = time.monotonic()
    with pytest.raises(BriefingError) as caught:
        build(project)
    assert time.monotonic() - started < 20
    problems = caught.value.problems
    assert len(problems) == 1
    assert str(problems[0].path) == "content/cover.pdf"
    assert expected in problems[0].message, problems[0].message
    assert "Traceback" not in problems[0].message
    assert not (project / "out").exists() or not list((project / "out").iterdir())


def test_bomb_is_refused_without_inflating_it(tmp_path: Path) -> None:
    """300 MB of zeros in 300 KB: refused after MAX_STREAM_BYTES at most, in small pieces."""
    data = bomb_cover(300)
    assert len(data) < 400_000
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(BriefingError, match="decompression bomb"):
            clean_pdf(data, "cover.pdf", "cover")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert peak < 32 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"


def test_stream_below_the_limit_is_accepted() -> None:
    """The limit is a limit, not a refusal of large streams: 8 MB inflated is fine."""
    cleaned = clean_pdf(bomb_cover(8), "cover.pdf", "cover")
    assert len(PdfReader(io.BytesIO(cleaned.pdf)).pages) == 1
    assert MAX_STREAM_BYTES > 8 * 1024 * 1024


def test_cli_reports_a_broken_cover_and_writes_nothing(project: Path) -> None:
    (project / "content" / "cover.pdf").write_bytes(b"%PDF-1.7\n garbage \x00\xff" * 10)
    result = run_briefing("build", "-j", "1", cwd=project)
    assert result.returncode == 1
    assert "content/cover.pdf: cover is not a readable PDF" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((project / "out").glob("*.pdf"))
    assert not list((project / "out").glob(".*"))


def test_owner_password_only_cover_works(project: Path) -> None:
    """Owner-only encryption (permissions, no password to open) is how designers often
    export: it opens without a password, so it is used, and the output is not encrypted."""
    (project / "content" / "cover.pdf").write_bytes(encrypted("", "owner-secret"))
    output = build(project)
    reader = PdfReader(output.pdf)
    assert not reader.is_encrypted
    assert "DESIGNED COVER" in pdftotext(output.pdf, "-f", "1", "-l", "1")
    assert "The body, after the designed cover." in pdftotext(output.pdf)


def test_parent_loop_is_never_followed() -> None:
    """Pages are found from the root down; the looping /Parent links are not copied."""
    started = time.monotonic()
    cleaned = clean_pdf(parent_loop(b"/MediaBox [0 0 300 400] "), "cover.pdf", "cover")
    assert time.monotonic() - started < 5
    assert cleaned.page_sizes == ((300.0, 400.0),)
    assert len(PdfReader(io.BytesIO(cleaned.pdf)).pages) == 1


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("hostile") / "project", {
        "content/doc.yaml": DOCUMENT, "content/cover.pdf": hostile_cover()})
    return build_document(root / "content" / "doc.yaml", project=root,
                              out_dir=root / "out").pdf


def test_hostile_cover_is_used(hostile_build: Path) -> None:
    first = pdftotext(hostile_build, "-f", "1", "-l", "1")
    assert "DESIGNED COVER" in first
    assert "The body, after the designed cover." in pdftotext(hostile_build)
    qpdf_check(hostile_build)


def test_nothing_active_from_the_cover_reaches_the_output(hostile_build: Path) -> None:
    """Searched three ways: the catalog and pages with pypdf, every object pypdf can reach,
    and qpdf's uncompressed rewrite of the whole file (which includes unreferenced objects)."""
    reader = PdfReader(hostile_build)
    root = reader.trailer["/Root"]
    for key in ("/OpenAction", "/AA", "/AcroForm"):
        assert key not in root, key
    names = root.get("/Names")
    assert names is None or set(names.get_object()) <= {"/Dests"}  # our own destinations
    for page in reader.pages:
        assert "/AA" not in page
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            assert annot["/Subtype"] == "/Link"
            action = annot.get("/A")
            if action is not None:
                assert action.get_object()["/S"] == "/URI"
                assert str(action.get_object()["/URI"]).startswith(("http:", "https:"))

    found = _all_objects(reader)
    assert found, "the walk found no objects"
    for obj in found:
        if isinstance(obj, DictionaryObject):
            assert "/JS" not in obj and "/EF" not in obj and "/AA" not in obj
            assert obj.get("/S") not in ("/JavaScript", "/Launch")
            assert obj.get("/Type") not in ("/Filespec", "/EmbeddedFile", "/Action")
            assert obj.get("/Subtype") not in ("/FileAttachment", "/Widget")

    qdf = subprocess.run(["qpdf", "--qdf", "--object-streams=disable", str(hostile_build), "-"],
                         check=True, capture_output=True).stdout
    for needle in (b"/JavaScript", b"/JS", b"/OpenAction", b"/AA", b"/EmbeddedFile",
                   b"/Launch", b"/FileAttachment", b"/Widget", b"/AcroForm", b"/XFA",
                   b"/Filespec", b"/PieceInfo", SECRET, b"app.alert", b"/etc/passwd",
                   b"/bin/sh", b"javascript:"):
        assert needle not in qdf, needle


def _all_objects(reader: PdfReader) -> list[object]:
    seen: set[int] = set()
    found: list[object] = []
    stack: list[object] = [reader.trailer]
    while stack:
        item = stack.pop()
        obj = item.get_object() if hasattr(item, "get_object") else item
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        found.append(obj)
        if isinstance(obj, DictionaryObject):
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return found
