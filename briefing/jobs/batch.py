"""Batch builds: many outputs at once on any `concurrent.futures`-style executor.

A build is planned as jobs (one per document or pack; a pack with many recipients is split into
chunks of recipients after its shared parts are rendered once here). Jobs and their results are
small picklable values, so the same plan runs inline, in local worker processes, or on a Dask
cluster (`Client.get_executor()`), and gives the same bytes whichever ran it. Workers write
their outputs themselves, so a cluster needs the project and the output folder on a shared
filesystem at the same path.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from briefing.errors import BriefingError, Problem, shown_path
from briefing.jobs.document import build_document
from briefing.jobs.outputs import Output, fail_if_strict
from briefing.jobs.pack import (
    PackCopy,
    SharedPack,
    build_pack,
    manifest_file,
    render_shared,
    write_manifest,
)
from briefing.options import BuildOptions
from briefing.render.html import PAPERS
from briefing.render.theme import theme_for
from briefing.source.load import load
from briefing.source.pack import is_pack, validate_pack
from briefing.source.prepare import prepare

LOG = logging.getLogger("briefing")




@dataclass(frozen=True)
class Job:
    path: Path
    project: Path
    out_dir: Path
    options: BuildOptions = field(default_factory=BuildOptions)
    #: some recipients of a pack, with the pack's parts rendered once for all chunks
    recipients: tuple[int, ...] | None = None
    shared: SharedPack | None = None
    #: `-o/--output`: the PDF of this one document (output.chosen_paths)
    output: Path | None = None


@dataclass(frozen=True)
class JobResult:
    job: Job
    outputs: tuple[Output, ...] = ()
    problems: tuple[Problem, ...] = ()
    failed: bool = False
    seconds: float = 0.0
    copies: tuple[PackCopy, ...] = field(default=())


def run_job(job: Job) -> JobResult:
    """Never raises: a failure comes back as problems, so one bad job stops nothing else."""

    started = time.perf_counter()
    problems: tuple[Problem, ...]
    try:
        if job.recipients is None:
            outputs = build_path(job.path, project=job.project, out_dir=job.out_dir,
                                 options=job.options, output=job.output)
            return JobResult(job, tuple(outputs), seconds=time.perf_counter() - started)
        shown = shown_path(job.path)
        pack = validate_pack(load(job.path, shown), job.project, shown)
        copies = build_pack(pack, project=job.project, out_dir=job.out_dir,
                            options=job.options, shared=job.shared, indexes=job.recipients)
        each = (time.perf_counter() - started) / max(len(copies), 1)
        outputs = [Output(source=job.path, pdf=c.pdf, html=None, pages=c.pages, size=c.size,
                          seconds=each) for c in copies]
        return JobResult(job, tuple(outputs), seconds=time.perf_counter() - started,
                         copies=tuple(copies))
    except BriefingError as error:
        problems = error.problems
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        problems = (Problem(shown_path(job.path), None,
                            f"cannot write the output:{where}: {exc.strerror or exc}"),)
    except Exception as exc:  # one broken document must not stop the others
        LOG.debug("unexpected error building %s\n%s", job.path, traceback.format_exc())
        problems = (Problem(
            shown_path(job.path), None,
            f"internal error ({type(exc).__name__}: {exc}); please report it with this file",
        ),)
    return JobResult(job, problems=problems, failed=True, seconds=time.perf_counter() - started)


def plan(paths: Sequence[Path], *, project: Path, out_dir: Path, options: BuildOptions,
         workers: int, output: Path | None = None) -> tuple[list[Job], list[JobResult]]:
    """Jobs for the paths; packs with more recipients than one job's worth are split."""

    jobs: list[Job] = []
    failed: list[JobResult] = []
    for path in paths:
        job = Job(path, project, out_dir, options, output=output)
        if workers <= 1 or output is not None:
            jobs.append(job)
            continue
        try:
            shown = shown_path(path)
            loaded = load(path, shown)
            if not is_pack(loaded):
                jobs.append(job)
                continue
            pack = validate_pack(loaded, project, shown)
            paper = options.layout_paper
            if len(pack.recipients) < 2 or paper not in PAPERS:
                jobs.append(job)
                continue
            shared = render_shared(pack, project, PAPERS[paper], theme_for(project),
                                   tagged=options.pdf_ua)
        except BriefingError as error:
            failed.append(JobResult(job, problems=error.problems, failed=True))
            continue
        for chunk in _chunks(len(pack.recipients), workers):
            jobs.append(Job(path, project, out_dir, options, chunk, shared))
    return jobs, failed


def _chunks(count: int, workers: int) -> Iterator[tuple[int, ...]]:
    size = -(-count // workers)
    for start in range(0, count, size):
        yield tuple(range(start, min(start + size, count)))


def run(jobs: Sequence[Job], executor: Executor | None = None,
        on_result: Callable[[JobResult], None] | None = None) -> list[JobResult]:
    """Results in job order; `on_result` sees each as it finishes (for a progress bar)."""
    results: dict[int, JobResult] = {}
    if executor is None:
        for index, job in enumerate(jobs):
            results[index] = run_job(job)
            if on_result:
                on_result(results[index])
    else:
        futures: dict[Future[JobResult], int] = {
            executor.submit(run_job, job): index for index, job in enumerate(jobs)
        }
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if on_result:
                on_result(results[futures[future]])
    ordered = [results[i] for i in range(len(jobs))]
    _write_manifests(ordered)
    return ordered


def _write_manifests(results: Sequence[JobResult]) -> None:
    """Chunked packs get one manifest, in recipient order, once every chunk is done."""

    by_pack: dict[Path, list[JobResult]] = {}
    for result in results:
        if result.job.recipients is not None:
            by_pack.setdefault(result.job.path, []).append(result)
    for chunks in by_pack.values():
        if any(r.failed for r in chunks):
            continue
        copies = [c for r in chunks for c in r.copies]
        shared = chunks[0].job.shared
        assert shared is not None
        write_manifest(manifest_file(shared.pack, chunks[0].job.out_dir), copies)


def local_executor(workers: int) -> Executor:
    """Worker processes started fresh (spawn), so no thread or lock state is inherited."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("spawn"))


def dask_executor(scheduler: str) -> Executor:
    """The same batch on a Dask distributed cluster (`pip install briefing[dask]`)."""
    try:
        from distributed import Client
    except ImportError:
        raise BriefingError.at(scheduler, None, "the Dask scheduler needs the optional extra: "
                               "pip install 'briefing[dask]'") from None
    client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
    executor: Executor = client.get_executor()  # type: ignore[no-untyped-call]
    return executor


def build_path(
    path: Path, *, project: Path, out_dir: Path, options: BuildOptions | None = None,
    output: Path | None = None,
) -> list[Output]:
    """A document gives one output; a pack one, or one per recipient."""
    options = options or BuildOptions()
    shown = shown_path(path)
    loaded = load(path, shown)
    if not is_pack(loaded):
        return [build_document(path, project=project, out_dir=out_dir, options=options,
                               output=output)]
    if output is not None:
        raise BriefingError.at(shown, None, "a pack cannot be given -o/--output: its PDFs are "
                               "named after the pack and each recipient; use --out DIR")

    started = time.perf_counter()
    pack = validate_pack(loaded, project, shown)
    if options.strict:  # the pack's warnings and those of every document in it
        fail_if_strict(True, [*loaded.warnings, *(
            w for item in pack.items if item.kind == "document"
            for w in prepare(item.path, project, pdf_ua=options.pdf_ua).warnings)])
    copies = build_pack(pack, project=project, out_dir=out_dir, options=options)
    seconds = (time.perf_counter() - started) / len(copies)
    return [Output(source=path, pdf=c.pdf, html=None, pages=c.pages, size=c.size,
                   seconds=seconds) for c in copies]
