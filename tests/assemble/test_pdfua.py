"""--pdf-ua: tagged parts, and one structure tree in the merged file that reaches every page.

A document (built once with the console script) and a pack with two documents, a supplied PDF
and two recipients (built once with the API) are read back: poppler's view of the tree
(`pdfinfo -struct-text`), and a walk of the tree with pypdf that checks what a screen reader
relies on: every piece of marked content on every page is claimed by exactly one element whose
page is that page, the parent tree agrees with the tree, every link annotation belongs to a
Link element, and all page content is either in the tree or an artifact.
"""

from __future__ import annotations

import functools
import io
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, ContentStream, DictionaryObject, IndirectObject

import briefing
from briefing.finish.profiles import apply_profile

from conftest import REPO, pdftotext, run_briefing, write_project

DOC = """\
title: Tagged Briefing
subtitle: Read aloud
classification: "Internal: for staff use"
audience: Partners
organisation: Example Organisation
date: 2026-03-01
lang: en
sections:
  - title: First Section
    intro: Why these questions matter.
    questions:
      - question: Where do the notes go?
        answer: |
          To the end.[^a] See [the site](https://example.org/about) too.

          - a list item
          - another, with a [link to the second question](#q-tables)
      - id: tables
        question: Are tables tagged?
        answer: |
          | Year | Cases |
          |------|-------|
          | 2015 | 12    |
          | 2016 | 9     |

          ![A bar chart of cases by year](chart.png)
  - title: Second Section
    questions:
      - question: Does the last one count?
        answer: Yes.^[An inline note.]
footnotes:
  a: The first note.
"""

NO_ALT = """\
title: Without alt
sections:
  - title: Pictures
    questions:
      - question: What is in it?
        answer: |
          A picture:

          ![](chart.png)
"""

PAINTING = {b"Tj", b"TJ", b"'", b'"', b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b",
            b"b*", b"sh", b"Do", b"BI"}
MCID = re.compile(rb"/MCID\s+(\d+)")


def chart_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "steelblue").save(buffer, "PNG")
    return buffer.getvalue()


# -- reading a tagged PDF back ---------------------------------------------------------------


@dataclass
class Tree:
    """What a walk of the structure tree found."""

    reader: PdfReader
    #: (page index, MCID) → the idnums of the elements that claim it
    claims: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    #: annotation idnum → the idnums of the elements with an OBJR to it
    objrs: dict[int, list[int]] = field(default_factory=dict)
    #: every element in reading order: (depth, /S, element)
    elements: list[tuple[int, str, DictionaryObject]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def walk(path: Path) -> Tree:
    reader = PdfReader(path)
    tree = Tree(reader)
    pages = {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages)}
    root = reader.root_object["/StructTreeRoot"].get_object()

    def visit(ref: object, parent: object, page: int | None, depth: int) -> None:
        assert isinstance(ref, IndirectObject), f"element {ref!r} is not indirect"
        element = ref.get_object()
        if element.raw_get("/P") != parent:
            tree.problems.append(f"{element['/S']} {ref.idnum}: /P is not its parent")
        if "/Pg" in element:
            if element.raw_get("/Pg").idnum not in pages:
                tree.problems.append(f"{element['/S']} {ref.idnum}: /Pg is not a page")
                return
            page = pages[element.raw_get("/Pg").idnum]
        tree.elements.append((depth, str(element["/S"]), element))
        kids = element.raw_get("/K") if "/K" in element else ArrayObject()
        kids = kids.get_object() if isinstance(kids.get_object(), ArrayObject) else [kids]
        for kid in kids:
            resolved = kid.get_object()
            if isinstance(resolved, int):
                assert page is not None, f"MCID {resolved} without a page"
                tree.claims.setdefault((page, resolved), []).append(ref.idnum)
            elif resolved.get("/Type") == "/MCR":
                tree.claims.setdefault((pages[resolved.raw_get("/Pg").idnum],
                                        resolved["/MCID"]), []).append(ref.idnum)
            elif resolved.get("/Type") == "/OBJR":
                tree.objrs.setdefault(resolved.raw_get("/Obj").idnum, []).append(ref.idnum)
            else:
                visit(kid, ref, page, depth + 1)

    kids = root.raw_get("/K")
    for kid in kids.get_object() if isinstance(kids.get_object(), ArrayObject) else [kids]:
        visit(kid, root.indirect_reference, None, 0)
    return tree


def number_tree(node: DictionaryObject) -> dict[int, object]:
    found: dict[int, object] = {}
    nums = node.get("/Nums", ArrayObject())
    for key, value in zip(nums[0::2], nums[1::2], strict=True):
        found[int(key)] = value
    for kid in node.get("/Kids", ArrayObject()):
        found.update(number_tree(kid.get_object()))
    return found


def unmarked_painting(reader: PdfReader, page: object) -> Counter[bytes]:
    """Painting operators outside both MCID-marked content and artifacts."""
    stack: list[bool] = []
    bad: Counter[bytes] = Counter()
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"BDC":
            properties = operands[1].get_object()
            stack.append(str(operands[0]) == "/Artifact" or (
                isinstance(properties, DictionaryObject) and "/MCID" in properties))
        elif operator == b"BMC":
            stack.append(str(operands[0]) == "/Artifact")
        elif operator == b"EMC":
            stack.pop()
        elif operator in PAINTING and not any(stack):
            bad[operator] += 1
    return bad


def assert_accessible(path: Path) -> Tree:
    """The invariants every tagged output keeps; returns the walk for more specific tests."""
    tree = walk(path)
    reader = tree.reader
    assert not tree.problems, tree.problems
    catalog = reader.root_object
    assert catalog["/MarkInfo"]["/Marked"] is True or catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"]
    assert catalog["/Lang"]
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert "<pdfuaid:part>1</pdfuaid:part>" in xmp
    assert f">{reader.metadata.title}</rdf:li>" in xmp
    root = catalog["/StructTreeRoot"].get_object()
    parents = number_tree(root["/ParentTree"].get_object())
    keys: list[int] = []
    for index, page in enumerate(reader.pages):
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
        marked = [int(m) for m in MCID.findall(data)]
        assert len(marked) == len(set(marked)), f"page {index + 1}: an MCID is used twice"
        claimed = {m for (p, m) in tree.claims if p == index}
        assert set(marked) == claimed, (
            f"page {index + 1}: MCIDs in the content {sorted(set(marked) - claimed)} are not "
            f"in the tree, and the tree claims {sorted(claimed - set(marked))} not marked")
        for mcid in marked:
            assert len(tree.claims[(index, mcid)]) == 1, f"page {index + 1} MCID {mcid}"
        assert not unmarked_painting(reader, page), f"page {index + 1}: untagged content"
        if marked:
            key = page["/StructParents"]
            keys.append(key)
            listed = parents[key].get_object()
            for mcid in marked:
                assert listed[mcid].idnum == tree.claims[(index, mcid)][0]
        for annot_ref in page.get("/Annots", ArrayObject()):
            annot = annot_ref.get_object()
            if annot["/Subtype"] != "/Link":
                continue
            assert tree.objrs.get(annot_ref.idnum, []) != [], f"page {index + 1}: link untagged"
            key = annot["/StructParent"]
            keys.append(key)
            element = parents[key].get_object()
            assert element["/S"] == "/Link"
            assert parents[key].idnum in tree.objrs[annot_ref.idnum]
            assert str(annot["/Contents"]).strip(), "a link annotation without /Contents"
    assert len(keys) == len(set(keys)), "a parent tree key is used twice"
    assert root["/ParentTreeNextKey"] > max(keys)
    for _, kind, element in tree.elements:
        if kind == "/Figure":
            assert str(element.get("/Alt", "")).strip(), "a figure without alternative text"
    return tree


@functools.cache
def struct_text(path: Path) -> str:
    """poppler's reading of the tree, text included (slow: seconds for a pack, so once)."""
    return subprocess.run(["pdfinfo", "-struct-text", str(path)], check=True,
                          capture_output=True, text=True).stdout


def headings(path: Path) -> list[tuple[str, str]]:
    """(H1…H6, its text) in the order `pdfinfo -struct-text` lists them."""
    found: list[tuple[str, str]] = []
    current: tuple[str, int, list[str]] | None = None
    for line in struct_text(path).splitlines():
        indent = len(line) - len(line.lstrip())
        text = line.strip()
        if current is not None and indent <= current[1]:
            found.append((current[0], " ".join(current[2])))
            current = None
        match = re.match(r"(H[1-6]) ", text)
        if match:
            current = (match.group(1), indent, [])
        elif current is not None and text.startswith('"'):
            current[2].append(text.strip('"').strip())
    if current is not None:
        found.append((current[0], " ".join(current[2])))
    return found


def pdfinfo(path: Path) -> str:
    return subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                          text=True).stdout


def qpdf_check(path: Path) -> None:
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# -- a document, built with the console script -----------------------------------------------


#: a project stylesheet with text in a page margin box: WeasyPrint marks it but leaves it out of
#: its tree, and the merge must turn it into an artifact
MARGIN_BOX = '@page { @bottom-left { content: "Words in the margin"; font-size: 7pt } }\n'


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    notes_css = (REPO / "styles" / "notes.css").read_text(encoding="utf-8")
    return write_project(tmp_path_factory.mktemp("ua"), {
        "content/tagged.yaml": DOC, "content/chart.png": chart_png(),
        "styles/notes.css": notes_css + MARGIN_BOX,
    })


@pytest.fixture(scope="module")
def document(project: Path) -> Path:
    result = run_briefing("build", "--pdf-ua", "content/tagged.yaml", cwd=project)
    assert result.returncode == 0, result.stderr
    return project / "out" / "tagged.pdf"


def test_poppler_sees_a_tagged_pdf(document: Path) -> None:
    info = pdfinfo(document)
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    assert re.search(r"^Metadata Stream:\s+yes$", info, re.M)
    qpdf_check(document)


def test_headings_in_reading_order(document: Path) -> None:
    assert headings(document) == [
        ("H1", "Tagged Briefing"),
        ("H2", "In this briefing"),
        ("H2", "First Section"),
        ("H3", "Where do the notes go?"),
        ("H3", "Are tables tagged?"),
        ("H2", "Second Section"),
        ("H3", "Does the last one count?"),
        ("H2", "Notes"),
    ]


def test_every_page_reachable_and_parent_tree_consistent(document: Path) -> None:
    tree = assert_accessible(document)
    pages = {p for p, _ in tree.claims}
    assert pages == set(range(len(tree.reader.pages)))  # the cover, body and notes


def test_one_document_element_holding_every_part(document: Path) -> None:
    tree = walk(document)
    root = tree.reader.root_object["/StructTreeRoot"]
    assert len(root["/K"]) == 1 and root["/K"][0].get_object()["/S"] == "/Document"
    assert [kind for depth, kind, _ in tree.elements if depth == 0] == ["/Document"]
    text = struct_text(document)
    assert text.index("Tagged Briefing") < text.index("In this briefing") < text.index(
        "The first note.")
    assert "INTERNAL: FOR STAFF USE" in text and "Partners" in text  # positioned on the cover


def test_running_headers_and_footers_are_artifacts(document: Path) -> None:
    text = struct_text(document)
    pages = pdftotext(document)
    assert "Page 1 of" in pages
    assert "Page 1 of" not in text
    assert text.count("INTERNAL: FOR STAFF USE") == 1  # on the cover, not the folios
    assert pages.count("INTERNAL: FOR STAFF USE") == 2  # the cover and the body's folio
    # a document's are its body's own margin boxes: marked by WeasyPrint, claimed by no
    # element, artifacts after the merge (a pack's are stamped as /Pagination artifacts)
    reader = PdfReader(document)
    body = reader.pages[1].get_contents().get_data()
    assert re.search(rb"/Artifact\s*BMC", body)
    assert b"BriefingOverlay" not in body


def test_margin_box_text_becomes_an_artifact(document: Path) -> None:
    """Marked by WeasyPrint, claimed by no element: an artifact after the merge (the tree walk
    of the test above finds no MCID left unclaimed, and no unmarked content)."""
    assert "Words in the margin" in pdftotext(document)
    assert "Words in the margin" not in struct_text(document)
    notes = PdfReader(document).pages[-1].get_contents().get_data()
    assert re.search(rb"/Artifact\s*BMC", notes)


def test_lists_tables_figures_and_links_are_tagged(document: Path) -> None:
    tree = walk(document)
    kinds = Counter(kind for _, kind, _ in tree.elements)
    for kind in ("/L", "/LI", "/LBody", "/Table", "/TR", "/TH", "/TD", "/Figure", "/Link", "/P",
                 "/Sect"):
        assert kinds[kind], f"no {kind} element"
    figure = next(e for _, k, e in tree.elements if k == "/Figure")
    assert figure["/Alt"] == "A bar chart of cases by year"
    headers = [e for _, k, e in tree.elements if k == "/TH"]
    ids = tree.reader.root_object["/StructTreeRoot"]["/IDTree"]["/Names"][0::2]
    assert {str(h["/ID"]) for h in headers} == {str(i) for i in ids}
    cells = [e for _, k, e in tree.elements if k == "/TD"]
    assert all(str(h) in {str(i) for i in ids} for c in cells for h in c["/A"]["/Headers"])


def test_link_annotations_carry_their_text(document: Path) -> None:
    reader = PdfReader(document)
    contents = {str(a.get_object()["/Contents"]) for page in reader.pages
                for a in page.get("/Annots", [])}
    assert "Note 1" in contents  # the call's aria-label
    assert "the site" in contents and "link to the second question" in contents
    assert "Where do the notes go?" in contents  # the contents list entry
    assert not any(c.startswith(("x-briefing:", "#", "fn-")) for c in contents)


def test_profiles_keep_the_tree(document: Path, tmp_path: Path) -> None:
    for profile in ("screen", "print"):
        out = tmp_path / f"{profile}.pdf"
        out.write_bytes(apply_profile(document.read_bytes(), profile, shown=str(out)))
        tree = assert_accessible(out)
        assert headings(out)[0] == ("H1", "Tagged Briefing"), profile
        assert {p for p, _ in tree.claims} == set(range(len(tree.reader.pages))), profile
        qpdf_check(out)


def test_imposed_profiles_are_refused(project: Path) -> None:
    for profile in ("booklet", "handout"):
        result = run_briefing("build", "--pdf-ua", "--profile", profile, cwd=project)
        assert result.returncode == 2, result.stderr
        assert f"--pdf-ua cannot be used with --profile {profile}" in result.stderr
        with pytest.raises(briefing.BriefingError, match="cannot be used"):
            briefing.build(project=project, profile=profile, pdf_ua=True)
    assert not (project / "out" / "booklet").exists()


def test_an_image_without_alt_text_is_an_error_only_with_pdf_ua(project: Path) -> None:
    (project / "content" / "no-alt.yaml").write_text(NO_ALT, encoding="utf-8")
    try:
        plain = run_briefing("check", "content/no-alt.yaml", cwd=project)
        assert plain.returncode == 0, plain.stderr
        tagged = run_briefing("check", "--pdf-ua", "content/no-alt.yaml", cwd=project)
        assert tagged.returncode == 1
        assert "content/no-alt.yaml:9: image `chart.png` has no alternative text" in (
            tagged.stderr)
        built = run_briefing("build", "--pdf-ua", "content/no-alt.yaml", cwd=project)
        assert built.returncode == 1 and "content/no-alt.yaml:9:" in built.stderr
        assert not (project / "out" / "no-alt.pdf").exists()
        report = briefing.check([project / "content/no-alt.yaml"], project=project, pdf_ua=True)
        assert [(p.line, p.is_error) for p in report.problems] == [(9, True)]
    finally:
        (project / "content" / "no-alt.yaml").unlink()


# -- a pack: two documents, a supplied PDF, two recipients ------------------------------------

PACK_DOC = """\
title: {title}
lang: {lang}
sections:
  - title: Questions of {title}
    questions:
      - question: First of {title}?
        answer: Answer of {title}.[^n]
      - question: Second of {title}?
        answer: More of {title}.
footnotes:
  n: Note of {title}.
"""

PACK = """\
title: Tagged Pack
classification: Restricted
notes: after-each
items:
  - document: ../alpha.yaml
  - document: ../beta.yaml
  - pdf: attached.pdf
    title: The attachment
recipients: people.yaml
personalise_footer: true
"""

PEOPLE = """\
- name: Ana Recipient
- name: Bo Recipient
"""


def attachment() -> bytes:
    import weasyprint

    return weasyprint.HTML(string="""<style>@page { size: A4; margin: 30mm }</style>
        <p>ATTACHED ONE</p><p style="break-before: page">ATTACHED TWO</p>""").write_pdf()


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = write_project(tmp_path_factory.mktemp("ua-pack"), {
        "content/alpha.yaml": PACK_DOC.format(title="Alpha", lang="en"),
        "content/beta.yaml": PACK_DOC.format(title="Beta", lang="fr"),
        "content/packs/attached.pdf": attachment(),
        "content/packs/pack.yaml": PACK,
        "content/packs/people.yaml": PEOPLE,
    })
    result = briefing.build([root / "content/packs/pack.yaml"], project=root, pdf_ua=True)
    assert result.ok, result.failures
    return [output.pdf for output in result.outputs]


def test_pack_copies_are_tagged(pack: list[Path]) -> None:
    assert len(pack) == 2
    for copy in pack:
        assert re.search(r"^Tagged:\s+yes$", pdfinfo(copy), re.M)
        qpdf_check(copy)
        tree = assert_accessible(copy)
        assert {p for p, _ in tree.claims} == set(range(len(tree.reader.pages)))


def test_pack_headings_in_reading_order(pack: list[Path]) -> None:
    found = headings(pack[0])
    assert found == [
        ("H1", "Tagged Pack"),
        ("H1", "Contents"),
        ("H1", "Alpha"), ("H2", "Questions of Alpha"),
        ("H3", "First of Alpha?"), ("H3", "Second of Alpha?"), ("H2", "Notes: Alpha"),
        ("H1", "Beta"), ("H2", "Questions of Beta"),
        ("H3", "First of Beta?"), ("H3", "Second of Beta?"), ("H2", "Notes: Beta"),
    ]


def test_a_copy_carries_only_its_own_cover(pack: list[Path]) -> None:
    first = struct_text(pack[0])
    assert "Prepared for Ana Recipient" in first and "Bo Recipient" not in first
    for copy in pack:
        tree = walk(copy)
        pages = {p.indirect_reference.idnum for p in tree.reader.pages}
        for _, _, element in tree.elements:
            assert "/Pg" not in element or element.raw_get("/Pg").idnum in pages
        spans = [e for _, k, e in tree.elements if k == "/H1"]
        assert len(spans) == 4  # one cover, the contents, two documents
    sizes = [len(walk(copy).elements) for copy in pack]
    assert sizes[0] == sizes[1]  # the same tree but for the name on the cover


def test_supplied_pdf_pages_are_figures(pack: list[Path]) -> None:
    tree = walk(pack[0])
    figures = [e for _, k, e in tree.elements if k == "/Figure"]
    assert [str(f["/Alt"]).split(":")[0] for f in figures] == [
        "The attachment, page 1 of 2", "The attachment, page 2 of 2"]
    assert "without tags" in str(figures[0]["/Alt"])


def test_each_document_keeps_its_language(pack: list[Path]) -> None:
    tree = walk(pack[0])
    assert tree.reader.root_object["/Lang"] == "en"
    french = [e for d, _, e in tree.elements if d == 1 and e.get("/Lang") == "fr"]
    assert french and all("/Lang" not in e or e["/Lang"] == "fr" for e in french)
    beta = struct_text(pack[0])
    assert "Questions of Beta" in beta


def test_a_packs_stamped_folio_is_a_pagination_artifact(pack: list[Path]) -> None:
    """A pack's running header and footer are stamped onto its merged pages (not margin
    boxes of one layout): each is drawn inside a /Pagination artifact."""
    reader = PdfReader(pack[0])
    page = reader.pages[2].get_contents().get_data()
    assert re.search(rb"/Artifact\s*<<\s*/Type\s*/Pagination\s*>>\s*BDC\s*q /BriefingOverlay", page)
    assert "Page 2 of" in pdftotext(pack[0], "-f", "3", "-l", "3")
    assert "Page 2 of" not in struct_text(pack[0])
