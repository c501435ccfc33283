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
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field, replace
from pathlib import Path

from briefing.errors import BriefingError, Problem, shown_path
from briefing.jobs.outputs import Output
from briefing.jobs.pack import PackCopy, manifest_file, remove_stale_copies, write_manifest
from briefing.jobs.pipeline import (
    LAYOUT_STAGES,
    WRITE_STAGES,
    Prepared,
    Rendered,
    Request,
    Written,
    run_stages,
)
from briefing.options import BuildOptions

LOG = logging.getLogger("briefing")


@dataclass(frozen=True)
class Job:
    path: Path
    project: Path
    out_dir: Path
    options: BuildOptions = field(default_factory=BuildOptions)
    #: a pack with more recipients than this is laid out once, then written in this many chunks
    split: int = 1
    #: a chunk: some recipients of a pack laid out by an earlier job
    recipients: tuple[int, ...] | None = None
    rendered: Rendered | None = None
    #: `-o/--output`: the PDF of this one document (output.chosen_paths)
    output: Path | None = None

    @property
    def request(self) -> Request:
        return Request(self.path, self.project, self.out_dir, self.options, self.output)


@dataclass(frozen=True)
class JobResult:
    job: Job
    outputs: tuple[Output, ...] = ()
    problems: tuple[Problem, ...] = ()
    failed: bool = False
    seconds: float = 0.0
    copies: tuple[PackCopy, ...] = field(default=())
    #: a pack laid out and not yet written: the batch runs these chunks next
    chunks: tuple[Job, ...] = ()


def run_job(job: Job) -> JobResult:
    """Never raises: a failure comes back as problems, so one bad job stops nothing else."""

    started = time.perf_counter()
    problems: tuple[Problem, ...]
    try:
        if job.rendered is not None:
            written: Written = run_stages(replace(job.rendered, indexes=job.recipients),
                                          WRITE_STAGES)
        else:
            rendered: Rendered = run_stages(job.request, LAYOUT_STAGES)
            shared = rendered.shared
            if shared is not None and job.split > 1 and len(shared.pack.recipients) > 1:
                # the chunks only write: they get the laid-out pack, not its composed sources
                light = replace(rendered, prepared=Prepared(rendered.request))
                chunks = tuple(replace(job, rendered=light, recipients=chunk)
                               for chunk in _chunks(len(shared.pack.recipients), job.split))
                return JobResult(job, seconds=time.perf_counter() - started, chunks=chunks)
            written = run_stages(rendered, WRITE_STAGES)
        seconds = time.perf_counter() - started
        each = seconds / max(len(written.outputs), 1)
        outputs = tuple(replace(o, seconds=each) for o in written.outputs)
        return JobResult(job, outputs, seconds=seconds, copies=written.copies)
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
    """One job per path; nothing is read or laid out here. A pack with many recipients is
    split into `workers` chunks once it is laid out (see `run`). `output`: -o/--output."""
    jobs = [Job(path, project, out_dir, options, split=max(workers, 1), output=output)
            for path in paths]
    return jobs, []


def _chunks(count: int, workers: int) -> Iterator[tuple[int, ...]]:
    size = -(-count // workers)
    for start in range(0, count, size):
        yield tuple(range(start, min(start + size, count)))


def run(jobs: Sequence[Job], executor: Executor | None = None,
        on_result: Callable[[JobResult], None] | None = None) -> list[JobResult]:
    """Results in job order (a split pack's chunks in place of its layout job); `on_result`
    sees each as it finishes (for a progress bar)."""
    results: dict[tuple[int, int], JobResult] = {}

    def finished(key: tuple[int, int], result: JobResult) -> list[tuple[tuple[int, int], Job]]:
        if result.chunks:
            return [((key[0], n + 1), chunk) for n, chunk in enumerate(result.chunks)]
        results[key] = result
        if on_result:
            on_result(result)
        return []

    if executor is None:
        queue = [((index, 0), job) for index, job in enumerate(jobs)]
        while queue:
            key, job = queue.pop(0)
            queue[:0] = finished(key, run_job(job))
    else:
        futures: dict[Future[JobResult], tuple[int, int]] = {
            executor.submit(run_job, job): (index, 0) for index, job in enumerate(jobs)
        }
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                key = futures.pop(future)
                for more_key, more in finished(key, future.result()):
                    futures[executor.submit(run_job, more)] = more_key
    ordered = [results[key] for key in sorted(results)]
    return _write_manifests(ordered)


def _write_manifests(results: Sequence[JobResult]) -> list[JobResult]:
    """Chunked packs get one manifest, in recipient order, once every chunk is done, and
    lose the copies of recipients no longer listed (named with the pack's first copy)."""

    by_pack: dict[Path, list[JobResult]] = {}
    updated: dict[int, JobResult] = {}
    for result in results:
        if result.job.recipients is not None:
            by_pack.setdefault(result.job.path, []).append(result)
    for chunks in by_pack.values():
        if any(r.failed for r in chunks):
            continue
        copies = [c for r in chunks for c in r.copies]
        rendered = chunks[0].job.rendered
        assert rendered is not None and rendered.shared is not None
        write_manifest(manifest_file(rendered.shared.pack, chunks[0].job.out_dir), copies)
        removed = remove_stale_copies(rendered.shared.pack, chunks[0].job.out_dir)
        first = chunks[0]
        if removed and first.outputs:
            outputs = (replace(first.outputs[0], removed=removed), *first.outputs[1:])
            updated[id(first)] = replace(first, outputs=outputs)
    return [updated.get(id(r), r) for r in results]


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
