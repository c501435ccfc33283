"""Documents and packs go through one job path: the defects two pipelines caused (issue 8),
each built as a user builds it (the CLI) and checked on the exit code, stderr and the PDF."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from conftest import REPO, pdftotext, run_briefing, write_project

UNUSED_NOTE = """\
title: Alpha
sections:
  - title: S
    questions:
      - question: Q?
        answer: An answer.
footnotes:
  never: Defined, never called.
"""

PRIVATE_USE = """\
title: Beta
sections:
  - title: S
    questions:
      - question: Q?
        answer: |
          A character no font has: \ue000 here.
"""

WITH_IMAGE = """\
title: Gamma
sections:
  - title: S
    questions:
      - question: Q?
        answer: |
          Look:

          ![A red square](img/square.png)
"""

PACK = """\
title: The Pack
items:
  - document: ../{doc}.yaml
recipients: {recipients}
"""

PEOPLE = "- name: Ann\n- name: Bob\n- name: Cy\n"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def pack_project(root: Path, name: str, text: str, *, recipients: bool = False,
                 extra: dict[str, str | bytes] | None = None) -> Path:
    return write_project(root, {
        f"content/{name}.yaml": text,
        "content/packs/pack.yaml": PACK.format(doc=name,
                                               recipients="people.yaml" if recipients else "~"),
        "content/packs/people.yaml": PEOPLE,
        **(extra or {}),
    })


def images_in(pdf: Path) -> int:
    """The distinct images the pages' resources name (pages of one layout share theirs)."""
    found: set[int] = set()
    for page in PdfReader(pdf).pages:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources else None
        if xobjects:
            found.update(x.idnum for x in xobjects.get_object().values()
                         if x.get_object().get("/Subtype") == "/Image")
    return len(found)


# --- 1. --strict holds for packs at every -j ----------------------------------------------

@pytest.mark.parametrize("workers", ["1", "2"])
def test_strict_fails_a_pack_at_any_number_of_workers(tmp_path: Path, workers: str) -> None:
    project = pack_project(tmp_path / "p", "alpha", UNUSED_NOTE, recipients=True)
    result = run_briefing("build", "--strict", "-j", workers, "content/packs/pack.yaml",
                          cwd=project)
    assert result.returncode == 1, result.stderr
    assert "content/alpha.yaml:8: footnote [^never] is defined but never used (--strict)" \
        in result.stderr
    assert not list((project / "out").rglob("*.pdf"))
    relaxed = run_briefing("build", "-j", workers, "content/packs/pack.yaml", cwd=project)
    assert relaxed.returncode == 0, relaxed.stderr
    assert "content/alpha.yaml:8: warning: footnote [^never] is defined but never used" \
        in relaxed.stderr
    assert len(list((project / "out" / "packs" / "pack").glob("*.pdf"))) == 3


# --- 2. a pack reports the warnings its documents' rendering gives -------------------------

def test_a_pack_reports_a_character_no_font_has(tmp_path: Path) -> None:
    project = pack_project(tmp_path / "p", "beta", PRIVATE_USE)
    single = run_briefing("build", "--strict", "content/beta.yaml", cwd=project)
    assert single.returncode == 1
    packed = run_briefing("build", "--strict", "content/packs/pack.yaml", cwd=project)
    assert packed.returncode == 1, packed.stderr
    assert "content/beta.yaml:7:" in packed.stderr and "U+E000" in packed.stderr
    assert not (project / "out" / "packs" / "pack.pdf").exists()
    relaxed = run_briefing("build", "content/packs/pack.yaml", cwd=project)
    assert relaxed.returncode == 0
    assert "content/beta.yaml:7:" in relaxed.stderr and "U+E000" in relaxed.stderr


# --- 3. images resolve against the file that names them ------------------------------------

def test_a_packs_document_keeps_its_image(tmp_path: Path) -> None:
    project = pack_project(tmp_path / "p", "gamma", WITH_IMAGE,
                           extra={"content/img/square.png": png()})
    result = run_briefing("build", "--strict", "content/packs/pack.yaml", "content/gamma.yaml",
                          cwd=project)
    assert result.returncode == 0, result.stderr
    assert "Failed to load image" not in result.stderr
    pack_pdf = project / "out" / "packs" / "pack.pdf"
    assert images_in(pack_pdf) == 1 == images_in(project / "out" / "gamma.pdf")
    assert "A red square" not in pdftotext(pack_pdf)  # drawn, not replaced by its alt text


def test_an_unreadable_image_is_a_warning_without_v_and_fails_strict(tmp_path: Path) -> None:
    project = pack_project(tmp_path / "p", "gamma", WITH_IMAGE,
                           extra={"content/img/square.png": b"not a png at all"})
    strict = run_briefing("build", "--strict", "content/packs/pack.yaml", cwd=project)
    assert strict.returncode == 1
    assert "content/gamma.yaml: " in strict.stderr
    assert "Failed to load image" in strict.stderr and "(--strict)" in strict.stderr
    assert not (project / "out" / "packs" / "pack.pdf").exists()
    relaxed = run_briefing("build", "content/packs/pack.yaml", cwd=project)
    assert relaxed.returncode == 0
    assert "content/gamma.yaml: warning: item-1 body: Failed to load image" in relaxed.stderr
    assert "A red square" in pdftotext(project / "out" / "packs" / "pack.pdf")  # its alt text


def test_check_names_a_missing_image_at_its_line(tmp_path: Path) -> None:
    project = pack_project(tmp_path / "p", "gamma", WITH_IMAGE)
    result = run_briefing("check", "content/gamma.yaml", "content/packs/pack.yaml", cwd=project)
    assert result.returncode == 1
    assert "content/gamma.yaml:9: image `img/square.png` does not exist" in result.stderr
    alone = run_briefing("check", "content/packs/pack.yaml", cwd=project)  # with its documents
    assert alone.returncode == 1
    assert "content/gamma.yaml:9: image `img/square.png` does not exist" in alone.stderr
    built = run_briefing("build", "content/packs/pack.yaml", cwd=project)
    assert built.returncode == 1
    assert "content/gamma.yaml:9: image `img/square.png` does not exist" in built.stderr


# --- 4. a project's template mistakes name the template and its line -----------------------

DOC = "title: T\nsections:\n  - title: S\n    questions:\n      - question: Q?\n" \
      "        answer: A.\n"

COVER_WITH = """\
{{% extends "cover.html.j2" %}}
{{% block cover %}}
<h1>{mistake}</h1>
{{% endblock %}}
"""


@pytest.mark.parametrize(("template", "text", "expected"), [
    ("cover.html.j2", "<html><body>\n<h1>x</h1>\n<p>{{ doc.titel }}</p>\n</body></html>\n",
     "templates/cover.html.j2:3: "),
    ("cover.html.j2", "<html><body>\n{% if doc %}\nx\n{% endblok %}\n</body></html>\n",
     "templates/cover.html.j2:4: "),
])
def test_a_template_mistake_names_the_template_and_line(
        tmp_path: Path, template: str, text: str, expected: str) -> None:
    project = write_project(tmp_path / "p", {"content/doc.yaml": DOC,
                                             f"templates/{template}": text})
    result = run_briefing("build", "content/doc.yaml", cwd=project)
    assert result.returncode == 1
    assert expected in result.stderr, result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert "content/doc.yaml" not in result.stderr.split(expected)[0].splitlines()[-1:]
    assert not list((project / "out").glob("*.pdf"))


def test_a_body_override_without_the_outline_anchors_names_the_template(tmp_path: Path) -> None:
    body = "<html><body>\n{% for s in doc.sections %}<h2>{{ s.title }}</h2>{% endfor %}\n" \
           "</body></html>\n"
    project = write_project(tmp_path / "p", {"content/doc.yaml": DOC,
                                             "templates/body.html.j2": body})
    result = run_briefing("build", "content/doc.yaml", cwd=project)
    assert result.returncode == 1
    assert "templates/body.html.j2: the outline needs elements with the ids" in result.stderr
    assert 'id="s-' in result.stderr or 'id="q-' in result.stderr
    assert "internal error" not in result.stderr and "AssemblyError" not in result.stderr
    assert not list((project / "out").glob("*.pdf"))


# --- 5. each file read and parsed once; the planner lays nothing out -----------------------

def test_each_file_is_parsed_once_and_the_planner_lays_nothing_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import briefing
    from briefing.jobs import batch, parts
    from briefing.options import BuildOptions
    from briefing.source import load as loading

    project = pack_project(tmp_path / "p", "alpha", UNUSED_NOTE.replace(
        "footnotes:\n  never: Defined, never called.\n", ""), recipients=True)
    parsed: list[str] = []
    rendered: list[str] = []
    real_parse, real_render = loading.parse_with_warnings, parts.render_pdf

    def parse(text: str, shown: str) -> object:
        parsed.append(shown)
        return real_parse(text, shown)

    def render(html: str, **kwargs: object) -> object:
        rendered.append(str(kwargs["name"]))
        return real_render(html, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loading, "parse_with_warnings", parse)
    monkeypatch.setattr(parts, "render_pdf", render)
    monkeypatch.chdir(project)
    pack = project / "content" / "packs" / "pack.yaml"
    jobs, _ = batch.plan([pack], project=project, out_dir=project / "out",
                         options=BuildOptions(strict=True), workers=2)
    assert [job.path for job in jobs] == [pack]
    assert parsed == [] and rendered == []  # planning reads and renders nothing
    with ThreadPoolExecutor(2) as pool:  # in this process, so the spies see the workers
        result = briefing.build([pack], project=project, strict=True, jobs=2, executor=pool)
    assert result.ok, result.failures
    assert sorted(parsed) == ["content/alpha.yaml", "content/packs/pack.yaml",
                              "content/packs/people.yaml"]
    assert rendered.count("item-1 body") == 1 and rendered.count("cover stamps") == 1
    assert len(list((project / "out" / "packs" / "pack").glob("*.pdf"))) == 3
    assert (project / "out" / "packs" / "pack" / "manifest.csv").read_text().count("\n") == 4


def test_verbose_logs_one_line_per_stage_in_order(tmp_path: Path) -> None:
    from briefing.jobs.pipeline import STAGES

    project = pack_project(tmp_path / "p", "alpha", DOC)
    for target in ("content/alpha.yaml", "content/packs/pack.yaml"):
        result = run_briefing("-v", "build", target, cwd=project)
        assert result.returncode == 0, result.stderr
        logged = [line.split(": ")[2].split(" (")[0] for line in result.stderr.splitlines()
                  if line.startswith(f"briefing: {target}: ") and line.endswith(" s)")]
        assert logged == [stage.name for stage in STAGES]


# --- the warm path: a rebuild in a running process lays out only what changed --------------

def test_a_warm_rebuild_lays_out_only_what_changed(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import briefing
    from briefing.render import pdf as rendering

    project = pack_project(tmp_path / "p", "gamma", WITH_IMAGE,
                           extra={"content/img/square.png": png()})
    seed = project / "content" / "gamma.yaml"
    laid_out: list[str] = []
    real = rendering._render_pdf

    def spy(html: str, **kwargs: object) -> object:
        laid_out.append(str(kwargs["name"]))
        return real(html, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rendering, "_render_pdf", spy)
    from briefing import finish as finishing
    from briefing.jobs import document as documents

    merged_and_finished: list[str] = []  # the steps after layout, skipped when nothing changed

    def counted(name: str, real_step: Any) -> Any:
        def step(*args: object, **kwargs: object) -> object:
            merged_and_finished.append(name)
            return real_step(*args, **kwargs)
        return step

    for module, name in ((documents, "assemble"), (finishing, "finish")):
        monkeypatch.setattr(module, name, counted(name, getattr(module, name)))
    monkeypatch.chdir(project)
    built = briefing.build([seed], project=project, reuse=True)
    assert built.ok and built.outputs[0].warnings == ()
    first = (project / "out" / "gamma.pdf").read_bytes()
    assert images_in(project / "out" / "gamma.pdf") == 1
    # cover, body and notes are one layout, the running header and footer its margin boxes
    assert laid_out == ["document"]
    assert merged_and_finished == ["assemble", "finish"]
    laid_out.clear()
    merged_and_finished.clear()
    assert briefing.build([seed], project=project, reuse=True).ok
    assert laid_out == []  # nothing changed: no layout at all
    assert merged_and_finished == []  # nor a merge or the profile's finishing
    assert (project / "out" / "gamma.pdf").read_bytes() == first
    seed.write_text(WITH_IMAGE.replace("Look:", "Look here:"), encoding="utf-8")
    assert briefing.build([seed], project=project, reuse=True).ok
    assert laid_out == ["document"]  # laid out again, once
    assert merged_and_finished == ["assemble", "finish"]
    assert "Look here:" in pdftotext(project / "out" / "gamma.pdf")
    laid_out.clear()
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (0, 0, 200)).save(buffer, "PNG")
    (project / "content" / "img" / "square.png").write_bytes(buffer.getvalue() + b"\0" * 7)
    assert briefing.build([seed], project=project, reuse=True).ok
    assert laid_out == ["document"]  # the image it drew changed on disk
    laid_out.clear()
    assert briefing.build([seed], project=project).ok  # without reuse: everything, as always
    assert laid_out == ["document"]


def test_a_warm_rebuild_of_the_seed_guesses_its_pages(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """After a one-word edit, the seed is laid out with each anchor's page from the last
    layout as a guess: its contents page is laid out once (cold: twice), and the PDF is the
    one a cold build of the edited seed gives."""
    from weasyprint.layout import page as page_layout

    import briefing

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    project = tmp_path / "p"
    shutil.copytree(REPO / "content", project / "content")
    seed = project / "content" / "cambodia-faq.yaml"
    assert briefing.build([seed], project=project, reuse=True).ok
    seed.write_text(seed.read_text(encoding="utf-8").replace(" research ", " researched ", 1),
                    encoding="utf-8")
    layouts: list[int] = []
    make_page = page_layout.make_page

    def counted(*args: Any) -> Any:
        layouts.append(args[-2])
        return make_page(*args)

    monkeypatch.setattr(page_layout, "make_page", counted)
    assert briefing.build([seed], project=project, out_dir=project / "warm", reuse=True).ok
    warm = layouts[:]
    layouts.clear()
    assert briefing.build([seed], project=project, out_dir=project / "cold").ok
    pages = len(PdfReader(project / "cold" / "cambodia-faq.pdf").pages)
    assert sorted(warm) == list(range(1, pages + 1))  # each page once
    assert len(layouts) > pages  # cold: the contents page waits for the pages it lists
    assert ((project / "warm" / "cambodia-faq.pdf").read_bytes()
            == (project / "cold" / "cambodia-faq.pdf").read_bytes())
