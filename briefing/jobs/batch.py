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
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from briefing.errors import BriefingError, Problem, shown_path
from briefing.jobs.outputs import Output
from briefing.jobs.pack import (
    COVERS_PER_RUN,
    PackCopy,
    manifest_file,
    remove_stale_copies,
    write_manifest,
)
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
from briefing.output import Terminated, terminate_as_exception

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
    """Recipients split among workers; past one batch of covers, one chunk per batch (its
    covers are laid out by the worker that writes it, see pack.COVERS_PER_RUN)."""
    size = -(-count // workers) if count <= COVERS_PER_RUN else COVERS_PER_RUN
    for start in range(0, count, size):
        yield tuple(range(start, min(start + size, count)))


def run(jobs: Sequence[Job], executor: Executor | None = None,
        on_result: Callable[[JobResult], None] | None = None,
        restart: Callable[[], Executor] | None = None) -> list[JobResult]:
    """Results in job order (a split pack's chunks in place of its layout job); `on_result`
    sees each as it finishes (for a progress bar).

    A worker process that dies (killed, out of memory) breaks a local pool: the job it was
    running is reported as failed, and the other unfinished jobs are run again in a new pool
    from `restart` (or reported as lost without one)."""
    replaced: list[Executor] = []
    try:
        return _run(jobs, executor, on_result, restart, replaced)
    except BaseException:  # Ctrl-C, SIGTERM: a pool made here is stopped too
        for pool in replaced:
            stop_workers(pool)
        raise
    finally:  # wait: the CLI ends with os._exit, so workers left idle would wait forever
        for pool in replaced:
            pool.shutdown(wait=True, cancel_futures=True)


def _run(jobs: Sequence[Job], executor: Executor | None,
         on_result: Callable[[JobResult], None] | None,
         restart: Callable[[], Executor] | None, replaced: list[Executor]) -> list[JobResult]:
    results: dict[tuple[int, int], JobResult] = {}
    submitted: dict[tuple[int, int], Job] = {}

    def finished(key: tuple[int, int], result: JobResult) -> list[tuple[tuple[int, int], Job]]:
        if key in submitted and result.job is not submitted[key]:  # back from a worker
            result = replace(result, job=submitted[key])
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
        from concurrent.futures.process import BrokenProcessPool

        pool: Executor = executor
        submitted.update({(index, 0): job for index, job in enumerate(jobs)})
        futures: dict[Future[JobResult], tuple[int, int]] = {}
        # jobs not yet given to a pool, in order; a pool of our own (one `restart` can
        # replace) is given TASKS_PER_WORKER jobs per worker, then replaced once they are done
        held: list[tuple[int, int]] = list(submitted)
        limit = TASKS_PER_WORKER * getattr(pool, "_max_workers", 1) if restart else float("inf")
        given = 0

        def give() -> None:
            nonlocal given
            while held and given < limit:
                key = held.pop(0)
                futures[pool.submit(_run_in_worker, submitted[key], key)] = key
                given += 1

        give()
        while futures or held:
            if not futures:  # a fresh pool: WeasyPrint's native memory goes with the old one
                pool.shutdown(wait=True)
                assert restart is not None
                pool = restart()
                replaced.append(pool)
                given = 0
                give()
                continue
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                key = futures.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken = True
                    futures[future] = key  # still to do: sorted out below
                    continue
                for more_key, more in finished(key, result):
                    submitted[more_key] = more
                    held.append(more_key)
            if not broken:
                give()
            else:
                for future, key in list(futures.items()):  # done just before the break
                    if future.done() and not future.cancelled() and not future.exception():
                        del futures[future]
                        for more_key, more in finished(key, future.result()):
                            submitted[more_key] = more
                            futures[_pending(more)] = more_key
                unfinished = sorted({*futures.values(), *held})
                held = []
                culprits = _dead_workers_jobs(pool, unfinished)
                # The broken pool sends its workers one SIGTERM; one that was handing back a
                # result then swallows it (concurrent.futures catches BaseException there)
                # and waits for work forever, keeping the CLI (and its stdout) open.
                stop_workers(pool)
                futures = {}
                for key in culprits:
                    finished(key, _died(submitted[key]))
                again = [key for key in unfinished if key not in culprits]
                if again and restart is None:
                    for key in again:
                        finished(key, _died(submitted[key], lost=True))
                    again = []
                if again:
                    assert restart is not None
                    pool = restart()
                    replaced.append(pool)
                    LOG.info("a worker died; %d job(s) restarted in a new pool", len(again))
                    held[:0] = again
                    given = 0
                    give()
    ordered = [results[key] for key in sorted(results)]
    return _write_manifests(ordered)


#: the queue on which each worker of a local pool says which job it starts (see run)
_started: Any = None


def _pending(job: Job) -> Future[JobResult]:
    """A future not yet run: a chunk found after the pool broke, run in the next one."""
    return Future()


def _run_in_worker(job: Job, key: tuple[int, int]) -> JobResult:
    """run_job in a worker process. It first says which job it starts, so that when it dies
    the batch knows which job killed it. SIGTERM (output.terminate_as_exception) unwinds the
    job, removing its temporary files, and then the worker exits: it takes no further job."""
    if _started is not None:
        _started.put((key, os.getpid()))
    try:
        result = run_job(job)
    except Terminated as stop:
        os._exit(stop.code if isinstance(stop.code, int) else 1)
    # a chunk's laid-out pack stays here: sent back with every result, the parent held one
    # unpickled copy per chunk (memory grew by 125 MB per 1,000 copies); it puts its own back
    return replace(result, job=replace(job, rendered=None)) if job.rendered else result


def _worker_init(started: Any) -> None:
    global _started
    _started = started
    terminate_as_exception()


def _dead_workers_jobs(pool: Executor, unfinished: Sequence[tuple[int, int]]
                       ) -> list[tuple[int, int]]:
    """Which unfinished jobs were running in a worker that died: the last job each worker
    said it started, for the workers that did not end by the pool's own SIGTERM. If none can
    be told apart, every job that had started and not finished."""
    queue = getattr(pool, "started", None)
    running: dict[int, tuple[int, int]] = {}
    while queue is not None and not queue.empty():
        key, pid = queue.get()
        running[pid] = key
    processes = getattr(pool, "processes", {})
    for process in processes.values():
        process.join(2)
    stopped = (None, -signal.SIGTERM, 128 + signal.SIGTERM)  # None: still unwinding its job
    dead = [pid for pid, process in processes.items() if process.exitcode not in stopped]
    suspects = [running[pid] for pid in dead if pid in running] or list(running.values())
    return [key for key in unfinished if key in suspects]


def _died(job: Job, lost: bool = False) -> JobResult:
    message = ("not built: a worker process died and the batch could not go on" if lost else
               "the worker process building it died (killed, or out of memory?); the other "
               "jobs were built")
    return JobResult(job, problems=(Problem(shown_path(job.path), None, message),),
                     failed=True)


def stop_workers(executor: Executor, grace: float = 1.5) -> None:
    """Stop a local process pool now: queued jobs are cancelled and each worker is sent
    SIGTERM, which unwinds its job (its temporary files are removed and nothing more is
    renamed into place: output.terminate_as_exception); one still alive after `grace` seconds
    is killed. Waiting for running jobs to finish took 13 to 30 s, and they then replaced the
    previous outputs after the signal."""
    processes = list(getattr(executor, "processes", {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0))
        if process.is_alive():
            process.kill()
            process.join(1)


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


#: a local pool is replaced by fresh worker processes after this many jobs per worker (the
#: next jobs wait for the last of its jobs). WeasyPrint's native side keeps about 28 KB per
#: cover laid out that no collection returns: a 10,000-recipient pack at -j 2 grew from 430
#: to 625 MB. A fresh worker costs about a second of imports. (Python 3.11's own
#: max_tasks_per_child can hang the pool.)
TASKS_PER_WORKER = 10


def local_executor(workers: int) -> Executor:
    """Worker processes started fresh (spawn), so no thread or lock state is inherited."""
    from briefing.jobs.pool import LocalPool

    return LocalPool(workers, _worker_init)


def dask_executor(scheduler: str) -> Executor:
    """The same batch on a Dask distributed cluster (`pip install briefing[dask]`)."""
    try:
        from distributed import Client
    except ImportError:
        raise BriefingError.at(scheduler, None, "the Dask scheduler needs the optional extra: "
                               "pip install 'briefing[dask]'") from None
    _probe(scheduler)
    client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
    executor: Executor = client.get_executor()  # type: ignore[no-untyped-call]
    return executor


def _probe(scheduler: str) -> None:
    """Refused at once when nothing listens: Dask's Client retries a refused connection until
    its 10 s timeout, so a mistyped port cost ten seconds before its one-line error."""
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    if address.hostname and address.port:
        socket.create_connection((address.hostname, address.port), timeout=10).close()
