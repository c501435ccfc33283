"""One job path for documents and packs: the named stages every build goes through.

    read      Request  -> Source     the YAML file loaded, once
    compose   Source   -> Prepared   validated, limits checked, Markdown parsed (a pack's
                                     documents too, each once); the content's warnings
    strict    Prepared -> Prepared   --strict: any warning so far fails the job, before layout
    render    Prepared -> Rendered   laid out with WeasyPrint and merged (document.py, pack.py);
                                     rendering's warnings (missing glyphs, unreadable images)
    strict    Rendered -> Rendered   --strict again, for what only rendering finds
    write     Rendered -> Written    finished (profile, PDF/A) and written atomically

Each stage is a plain function from one frozen value to the next; `-v` logs one line per stage.
A pack with many recipients is split after `strict`: the chunks run only `write`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefing.errors import BriefingError, Problem, shown_path
from briefing.jobs.document import Merged, lay_out_document
from briefing.jobs.outputs import Output, fail_if_strict
from briefing.jobs.pack import (
    PackCopy,
    SharedPack,
    lay_out_pack,
    remove_stale_copies,
    write_copies,
)
from briefing.jobs.parts import PartCache, Renderer, paper_for
from briefing.jobs.warm import remembered
from briefing.options import BuildOptions
from briefing.output import chosen_paths, safe_name, write_together
from briefing.source.load import Loaded, UsableTree, load
from briefing.source.markdown import Composed
from briefing.source.pack import Pack, is_pack, validate_pack
from briefing.source.prepare import every_problem, prepare_loaded

LOG = logging.getLogger("briefing")


@dataclass(frozen=True)
class Request:
    """What to build, where, and how."""

    path: Path
    project: Path
    out_dir: Path
    options: BuildOptions = field(default_factory=BuildOptions)
    #: `-o/--output`: the PDF of this one document instead of `out_dir`/its name
    #: (output.chosen_paths); a pack refuses it
    output: Path | None = None

    @property
    def shown(self) -> str:
        return shown_path(self.path)


@dataclass(frozen=True)
class Source:
    request: Request
    loaded: Loaded


@dataclass(frozen=True)
class Prepared:
    """A composed document, or a pack and its composed documents (by item index)."""

    request: Request
    document: Composed | None = None
    pack: Pack | None = None
    items: Mapping[int, Composed] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Rendered:
    request: Request
    prepared: Prepared
    merged: Merged | None = None
    shared: SharedPack | None = None
    warnings: tuple[Problem, ...] = ()
    #: some recipients of a pack (a batch's chunk); None: every copy
    indexes: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Written:
    request: Request
    outputs: tuple[Output, ...]
    copies: tuple[PackCopy, ...] = ()


def read(request: Request) -> Source:
    try:
        return Source(request, load(request.path, request.shown, project=request.project))
    except UsableTree as usable:  # a duplicate key: the rest of the file is checked too
        every_problem(usable, request.project, request.shown, notes=request.options.notes)


def compose(source: Source) -> Prepared:
    request = source.request
    project, pdf_ua = request.project, request.options.pdf_ua
    loaded = source.loaded
    if not is_pack(loaded):
        composed = prepare_loaded(loaded, project, request.shown, pdf_ua=pdf_ua,
                                  notes=request.options.notes)
        return Prepared(request, document=composed, warnings=composed.warnings)
    if request.output is not None:
        raise BriefingError.at(request.shown, None, "a pack cannot be given -o/--output: its "
                               "PDFs are named after the pack and each recipient; use --out DIR")
    pack = validate_pack(loaded, project, request.shown)
    items = {}
    for index, item in enumerate(pack.items):
        if item.kind == "document":
            shown = shown_path(item.path)
            items[index] = prepare_loaded(load(item.path, shown, project=project), project, shown,
                                          pdf_ua=pdf_ua)
    warnings = (*loaded.warnings, *(w for c in items.values() for w in c.warnings))
    return Prepared(request, pack=pack, items=items, warnings=tuple(dict.fromkeys(warnings)))


def strict(stage: Any) -> Any:
    """Prepared -> Prepared, Rendered -> Rendered: under --strict any warning fails the job."""
    fail_if_strict(stage.request.options.strict, stage.warnings)
    return stage


def render(prepared: Prepared, part_cache: PartCache | None = None) -> Rendered:
    """`part_cache`: parts rendered before, by what they were rendered from, kept between
    builds by the preview (see Renderer)."""
    from briefing.render.theme import theme_for

    request = prepared.request
    sheet = paper_for(request.options, request.shown)
    renderer = Renderer(request.project, theme_for(request.project),
                        tagged=request.options.pdf_ua, cache=part_cache,
                        reuse=request.options.reuse)
    back_cover = request.options.profile == "booklet"  # it gets a real outside back cover
    if prepared.document is not None:
        merged = lay_out_document(prepared.document, renderer, sheet, back_cover=back_cover)
        return Rendered(request, prepared, merged=merged,
                        warnings=prepared.warnings + merged.warnings)
    assert prepared.pack is not None
    shared = lay_out_pack(prepared.pack, dict(prepared.items), renderer, sheet,
                          back_cover=back_cover)
    return Rendered(request, prepared, shared=shared,
                    warnings=prepared.warnings + shared.warnings)


def write(rendered: Rendered) -> Written:
    request = rendered.request
    options = request.options
    if rendered.merged is not None:
        return _write_document(rendered, rendered.merged)
    assert rendered.shared is not None
    started = time.perf_counter()
    copies = write_copies(rendered.shared, project=request.project, out_dir=request.out_dir,
                          options=options, indexes=rendered.indexes)
    each = (time.perf_counter() - started) / max(len(copies), 1)
    chosen = rendered.indexes if rendered.indexes is not None else range(len(copies))
    # the whole pack written (not a chunk of it): copies of recipients gone are removed
    removed = (remove_stale_copies(rendered.shared.pack, request.out_dir)
               if rendered.indexes is None else ())
    outputs = tuple(
        # the pack's warnings, and the copies removed, are reported once, with its first copy
        Output(source=request.path, pdf=c.pdf, html=None, pages=c.pages, size=c.size,
               seconds=each, warnings=(rendered.warnings if index == 0 else ()) + c.warnings,
               removed=removed if index == 0 else ())
        for index, c in zip(chosen, copies, strict=True)
    )
    return Written(request, outputs, tuple(copies))


def _write_document(rendered: Rendered, merged: Merged) -> Written:
    from briefing.finish import finish
    from briefing.finish.pdfa import document_sources
    from briefing.render.html import page_html
    from briefing.render.theme import theme_for

    request, options = rendered.request, rendered.request.options
    composed = rendered.prepared.document
    assert composed is not None
    started = time.perf_counter()
    html = page_html(composed, theme_for(request.project)).encode("utf-8")
    if request.output is not None:
        pdf_path, html_path = chosen_paths(request.output)
    else:
        name = safe_name(composed.document.name)
        pdf_path, html_path = request.out_dir / f"{name}.pdf", request.out_dir / f"{name}.html"
    sources = document_sources(composed.document, request.project) if options.pdf_a else ()
    pdf, pages = remembered(  # a warm rebuild of the same merged file: finished as before
        options.reuse, [merged.pdf, options, merged.starts, sources],
        lambda: finish(merged.pdf, options, shown_path(pdf_path), starts=merged.starts,
                       sources=sources))
    write_together([(pdf_path, pdf), (html_path, html)])  # both or neither
    output = Output(source=request.path, pdf=pdf_path, html=html_path, pages=pages,
                    size=len(pdf), seconds=time.perf_counter() - started,
                    warnings=rendered.warnings)
    return Written(request, (output,))


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[Any], Any]


#: the order every job runs in (see the module's docstring)
STAGES: tuple[Stage, ...] = (
    Stage("read", read),
    Stage("compose", compose),
    Stage("strict", strict),
    Stage("render", render),
    Stage("strict", strict),
    Stage("write", write),
)
#: what a pack split into chunks runs once, before its chunks each run the rest
LAYOUT_STAGES = STAGES[:-1]
WRITE_STAGES = STAGES[-1:]


def run_stages(start: Any, stages: Sequence[Stage] = STAGES) -> Any:
    """Run `start` through the stages in order, logging one line per stage (`-v`)."""
    value = start
    shown = start.request.shown if hasattr(start, "request") else start.shown
    for stage in stages:
        began = time.perf_counter()
        value = stage.run(value)
        LOG.info("%s: %s (%.3f s)", shown, stage.name, time.perf_counter() - began)
    return value


def build_document(
    path: Path, *, project: Path, out_dir: Path, options: BuildOptions | None = None
) -> Output:
    """One document built through the whole job path (for the library and the tests)."""
    written: Written = run_stages(Request(path, project, out_dir, options or BuildOptions()))
    [output] = written.outputs
    return output
