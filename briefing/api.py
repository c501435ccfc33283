"""The library API: check and build documents. The CLI is a thin shell over these functions."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .archive import document_sources
from .assemble import Metadata, OutlineEntry, Placed, assemble, page_numbers
from .errors import BriefingError, Problem, shown_path
from .html import PAPERS, FolioPage, body_html, cover_html, folio_html, notes_html, page_html
from .limits import content_problems
from .load import load
from .markdown import Composed, compose
from .model import Document, validate
from .options import BuildOptions
from .output import safe_name, write_atomic
from .pack import is_pack, validate_pack
from .pdf import Anchor, RenderedPart, render_pdf
from .scripts import missing_codepoints, missing_glyphs
from .theme import theme_for
from .translations import translation_problems

if TYPE_CHECKING:
    from .batch import JobResult

LOG = logging.getLogger("briefing")


@dataclass(frozen=True)
class Output:
    source: Path
    pdf: Path
    html: Path | None
    pages: int
    size: int
    seconds: float
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Merged:
    """A document's merged PDF; `starts` are the pages where its parts begin (cover, body)."""

    pdf: bytes
    pages: int
    starts: tuple[int, ...]


@dataclass(frozen=True)
class BuildResult:
    outputs: tuple[Output, ...] = ()
    failures: tuple[tuple[Path, BriefingError], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class CheckResult:
    documents: tuple[Path, ...]
    problems: tuple[Problem, ...] = field(default=())

    def failed(self, strict: bool = False) -> bool:
        return any(p.is_error or strict for p in self.problems)


def find_project(start: Path | None = None) -> Path:
    """The nearest folder (this one or a parent) that has a `content/` folder."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "content").is_dir():
            return folder
    raise BriefingError.at(here, None, "no `content/` folder here or in any parent folder")


def discover(project: Path) -> list[Path]:
    """Every document in `content/` and every pack in `content/packs/`, in a stable order.

    Hidden files (editor backups, `.name.yaml`) are skipped; name them to build them anyway.
    """
    documents = sorted(p for p in (project / "content").glob("*.yaml") if _visible_file(p))
    packs = sorted(p for p in (project / "content" / "packs").glob("*.yaml")
                   if _visible_file(p) and _maybe_pack(p))
    return documents + packs


def _visible_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".")


def _maybe_pack(path: Path) -> bool:
    """A pack, or a broken file in packs/: its problems are reported when it is checked or
    built, and never stop the other documents from being found."""
    try:
        return is_pack(load(path, shown_path(path)))
    except BriefingError:
        return True


def prepare(path: Path, project: Path, *, pdf_ua: bool = False) -> Composed:
    """Load, validate and parse one document: everything short of rendering. `pdf_ua` adds
    what tagged PDFs need of the content (images with alternative text: accessible.py)."""
    shown = shown_path(path)
    loaded = load(path, shown)
    document = validate(loaded, project, shown)
    too_big = content_problems(document)  # before any layout: see limits.py
    if too_big:
        raise BriefingError(too_big)
    if pdf_ua:
        from .accessible import compose_accessible

        composed = compose_accessible(document)
    else:
        composed = compose(document)
    paired = translation_problems(document, project)
    return replace(composed, warnings=composed.warnings + tuple(paired)) if paired else composed


def check(
    paths: Sequence[Path] | None = None, *, project: Path | None = None, pdf_ua: bool = False
) -> CheckResult:
    """Validate without rendering (WeasyPrint is never imported): every problem of every file."""
    project = project or find_project()
    documents = tuple(paths) if paths else tuple(discover(project))
    if not documents:
        raise BriefingError.at(project / "content", None, "no documents (*.yaml) to check")
    problems: list[Problem] = []
    for path in documents:
        try:
            problems.extend(check_path(path, project, pdf_ua=pdf_ua))
        except BriefingError as error:
            problems.extend(error.problems)
    return CheckResult(documents, tuple(problems))


def check_path(path: Path, project: Path, *, pdf_ua: bool = False) -> tuple[Problem, ...]:
    """The warnings of one document or pack; its errors raise BriefingError."""
    shown = shown_path(path)
    loaded = load(path, shown)
    if is_pack(loaded):
        validate_pack(loaded, project, shown)
        return loaded.warnings
    return prepare(path, project, pdf_ua=pdf_ua).warnings


def build(
    paths: Sequence[Path] | None = None,
    *,
    project: Path | None = None,
    out_dir: Path | None = None,
    paper: str = "a4",
    strict: bool = False,
    profile: str = "screen",
    email_budget: int | None = None,
    pdf_a: bool = False,
    jobs: int = 1,
    executor: Executor | None = None,
    on_result: Callable[[JobResult], None] | None = None,
    pdf_ua: bool = False,
) -> BuildResult:
    """Build documents and packs into `out_dir`; one failure does not stop the others.

    With `jobs` > 1 the outputs are built in that many worker processes; any
    `concurrent.futures` executor (a Dask client's, say) can be given instead, and then `jobs`
    is how many chunks a pack's recipients are split into. `pdf_a` makes PDF/A-3b files
    that carry their YAML sources (see archive.py).
    """
    from .batch import local_executor, plan, run
    from .profiles import check_profile

    check_profile(profile)
    if pdf_ua:
        from .accessible import check_profile as check_tagged_profile

        check_tagged_profile(profile)
    options = BuildOptions(paper=paper, strict=strict, profile=profile, pdf_a=pdf_a,
                           pdf_ua=pdf_ua, email_budget=email_budget or BuildOptions.email_budget)
    project = project or find_project()
    out_dir = out_dir or project / "out"
    documents = list(paths) if paths else discover(project)
    if not documents:
        raise BriefingError.at(project / "content", None, "no documents (*.yaml) to build")
    clashes = _name_clashes(documents)
    parallel = executor is not None or jobs > 1
    job_list, failed = plan([p for p in documents if p not in clashes], project=project,
                            out_dir=out_dir, options=options,
                            workers=max(jobs, 1) if parallel else 1)
    own = (local_executor(min(jobs, len(job_list)))
           if executor is None and jobs > 1 and len(job_list) > 1 else None)
    try:
        results = run(job_list, own or executor, on_result)
    except BaseException:  # Ctrl-C, SIGTERM: queued jobs are dropped, not run to the end
        if own is not None:
            own.shutdown(cancel_futures=True)
        raise
    if own is not None:
        own.shutdown()
    outputs = tuple(o for r in results for o in r.outputs)
    failures = [(path, error) for path, error in clashes.items()]
    failures += [(r.job.path, BriefingError(r.problems)) for r in [*failed, *results] if r.failed]
    return BuildResult(outputs, tuple(failures))


def _name_clashes(documents: Sequence[Path]) -> dict[Path, BriefingError]:
    """Output names come from file names made safe (`a b.yaml` and `a-b.yaml` both give
    `a-b`), and case-insensitive disks fold case: a later file would overwrite an earlier
    one's PDF, so it fails instead. Packs write under `packs/`, a namespace of their own."""
    taken: dict[tuple[str, bool], Path] = {}
    clashes: dict[Path, BriefingError] = {}
    for path in documents:
        name = safe_name(path.stem)
        key = (name.casefold(), path.parent.name == "packs")
        if key in taken and taken[key].resolve() != path.resolve():
            clashes[path] = BriefingError.at(
                shown_path(path), None, f"its output name `{name}` is already used by "
                f"{shown_path(taken[key])}; rename one of the two files",
            )
        taken.setdefault(key, path)
    return clashes


def build_path(
    path: Path, *, project: Path, out_dir: Path, options: BuildOptions | None = None
) -> list[Output]:
    """A document gives one output; a pack one, or one per recipient."""
    options = options or BuildOptions()
    shown = shown_path(path)
    loaded = load(path, shown)
    if not is_pack(loaded):
        return [build_document(path, project=project, out_dir=out_dir, options=options)]
    from .packbuild import build_pack

    started = time.perf_counter()
    pack = validate_pack(loaded, project, shown)
    if options.strict:  # the pack's warnings and those of every document in it
        _fail_if_strict(True, [*loaded.warnings, *(
            w for item in pack.items if item.kind == "document"
            for w in prepare(item.path, project, pdf_ua=options.pdf_ua).warnings)])
    copies = build_pack(pack, project=project, out_dir=out_dir, options=options)
    seconds = (time.perf_counter() - started) / len(copies)
    return [Output(source=path, pdf=c.pdf, html=None, pages=c.pages, size=c.size,
                   seconds=seconds) for c in copies]


def build_document(
    path: Path, *, project: Path, out_dir: Path, options: BuildOptions | None = None
) -> Output:
    options = options or BuildOptions()
    started = time.perf_counter()
    composed = prepare(path, project, pdf_ua=options.pdf_ua)
    _fail_if_strict(options.strict, composed.warnings)
    rendering: list[Problem] = []  # what only rendering finds: missing glyphs, bad images
    merged = render_document(composed, project=project, paper=options.layout_paper,
                             warnings=rendering, pdf_ua=options.pdf_ua)
    _fail_if_strict(options.strict, rendering)
    html = page_html(composed, theme_for(project)).encode("utf-8")
    name = safe_name(composed.document.name)
    pdf_path, html_path = out_dir / f"{name}.pdf", out_dir / f"{name}.html"
    sources = document_sources(composed.document, project) if options.pdf_a else ()
    pdf, pages = options.finish(merged.pdf, shown_path(pdf_path), starts=merged.starts,
                                sources=sources)
    write_atomic(pdf_path, pdf)
    write_atomic(html_path, html)
    return Output(
        source=path,
        pdf=pdf_path,
        html=html_path,
        pages=pages,
        size=len(pdf),
        seconds=time.perf_counter() - started,
        warnings=composed.warnings + tuple(rendering),
    )


def _fail_if_strict(strict: bool, warnings: Sequence[Problem]) -> None:
    """Under --strict a warning fails the build, marked so the reader knows why."""
    if strict and warnings:
        raise BriefingError(Problem(p.path, p.line, p.message + " (--strict)") for p in warnings)


def render_document(
    composed: Composed, *, project: Path, paper: str = "a4",
    warnings: list[Problem] | None = None, pdf_ua: bool = False,
) -> Merged:
    """Render cover, body and notes as separate parts and merge them into one PDF.

    With `pdf_ua` the parts are tagged and the running headers and footers are artifacts; the
    merged file has one structure tree (structure.py).

    Characters no installed font has are added to `warnings`, when given (see scripts.py).
    """
    document = composed.document
    if paper not in PAPERS:
        raise BriefingError.at(document.shown, None, f"unknown paper size {paper!r}")
    sheet = PAPERS[paper]
    theme = theme_for(project)
    base = document.path.parent

    logged: list[str] = []

    def render(html: str, name: str, running: bool = False) -> RenderedPart:
        part = render_pdf(html, name=name, base=base, project=project, shown=document.shown,
                          tagged=pdf_ua and not running, artifact=pdf_ua and running)
        logged.extend(w.message for w in part.warnings)
        return part

    cover = (
        supplied_cover(document)
        if document.cover
        else render(cover_html(composed, theme, sheet), "cover")
    )
    body = render(body_html(composed, theme, sheet, first_page=1,
                            page_notes=document.notes_on_page), "body")
    parts = [Placed(cover, "doc", label="Cover"), Placed(body, "doc")]
    if composed.notes and not document.notes_on_page:
        parts.append(Placed(render(notes_html(composed, theme, sheet), "notes"), "doc"))

    numbers = page_numbers(parts)
    total = max((n for n in numbers if n is not None), default=0)
    sizes = [size for placed in parts for size in placed.part.page_sizes]
    folio_pages = [
        FolioPage(
            width_pt=sizes[index][0],
            height_pt=sizes[index][1],
            header=document.title,
            footer=f"Page {number} of {total}",
            classification=document.classification,
        )
        for index, number in enumerate(numbers)
        if number is not None
    ]
    folio = render(folio_html(folio_pages, theme, document.lang), "folio", running=True)
    pdf = assemble(parts, outline(composed), metadata(document), [Placed(folio, "folio")])
    if warnings is not None:
        source = document.source.decode("utf-8", "replace")
        warnings.extend(missing_glyphs(document.shown, source, logged))
        # Anything else WeasyPrint said (an image it could not read, say) is not dropped.
        others = dict.fromkeys(m for m in logged if not missing_codepoints([m]))
        warnings.extend(Problem(document.shown, None, m, "warning") for m in others)
    return Merged(pdf, len(numbers), (0, cover.page_count))


def outline(composed: Composed) -> list[OutlineEntry]:
    document = composed.document
    entries = [OutlineEntry("Cover", "doc", "cover")]
    for section in document.sections:
        questions = tuple(OutlineEntry(q.question, "doc", f"q-{q.id}") for q in section.questions)
        entries.append(OutlineEntry(section.title, "doc", section.id, questions))
    if composed.notes and not document.notes_on_page:
        entries.append(OutlineEntry("Notes", "doc", "notes"))
    return entries


def source_date(content_date: dt.date | None) -> dt.datetime | None:
    """SOURCE_DATE_EPOCH when set, else the content's own date; never the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    if content_date is not None:
        return dt.datetime.combine(content_date, dt.time(0, 0), dt.UTC)
    return None


def metadata(document: Document) -> Metadata:
    digest = hashlib.sha256(
        b"briefing " + __version__.encode() + b"\0" + document.source
    ).digest()
    return Metadata(
        title=document.title,
        subject=document.subtitle,
        author=document.organisation,
        lang=document.lang,
        date=source_date(document.date),
        identifier=digest[:16],
    )


def supplied_cover(document: Document) -> RenderedPart:
    """A designed cover PDF in place of the rendered cover."""
    assert document.cover is not None
    part = supplied_pdf(document.cover, shown_path(document.cover), name="cover")
    return replace(part, anchors={"cover": Anchor(0, 0.0, part.page_sizes[0][1])})


def supplied_pdf(path: Path, shown: str, *, name: str) -> RenderedPart:
    """A PDF from outside (a designed cover, a study), reduced to its pages: no scripts,
    actions, forms, annotations or attachments, and no decompression bombs (untrusted.py).
    Every page gets an anchor `page-N` at its top."""
    from .untrusted import clean_pdf, read_untrusted

    cleaned = clean_pdf(read_untrusted(path, shown, name), shown, name)
    sizes = cleaned.page_sizes
    anchors = {f"page-{i}": Anchor(i, 0.0, height) for i, (_, height) in enumerate(sizes)}
    return RenderedPart(name=name, pdf=cleaned.pdf, page_sizes=sizes, anchors=anchors)
