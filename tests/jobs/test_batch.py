"""Batch builds: parallel workers, one failure among many, and the same bytes whichever
executor built them (inline, local processes, a Dask cluster on loopback)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import briefing

from conftest import MINIMAL, run_briefing, write_project

PACK = """\
title: Batch pack
date: 2026-01-02
items:
  - document: ../one.yaml
recipients: people.csv
"""
PEOPLE = "name,organisation,email\n" + "".join(
    f"Person {i},Org {i},p{i}@example.org\n" for i in range(1, 6))


def project_files() -> dict[str, str | bytes]:
    return {
        "content/one.yaml": MINIMAL,
        "content/two.yaml": MINIMAL.replace("A small briefing", "Another briefing"),
        "content/packs/batch.yaml": PACK,
        "content/packs/people.csv": PEOPLE,
    }


def outputs_of(project: Path) -> dict[str, bytes]:
    out = project / "out"
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def inline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    project = write_project(tmp_path_factory.mktemp("inline"), project_files())
    result = briefing.build(project=project, jobs=1)
    assert result.ok, result.failures
    assert len(result.outputs) == 2 + 5
    return outputs_of(project)


def test_cli_parallel_with_one_failure(tmp_path: Path) -> None:
    files = project_files()
    files["content/broken.yaml"] = "title: Broken\nsections: []\n"
    project = write_project(tmp_path, files)
    result = run_briefing("build", "-j", "2", cwd=project)
    assert result.returncode == 1
    assert "content/broken.yaml" in result.stderr and "1 failed" in result.stderr
    # the others were built, and the summary table lists them
    for name in ("out/one.pdf", "out/two.pdf", "out/packs/batch/person-5.pdf"):
        assert (project / name).is_file()
        assert any(line.startswith(name) for line in result.stdout.splitlines())
    # without a terminal, progress is one plain line per finished job
    assert "[1/4] " in result.stderr  # "done/total"


def test_process_pool_gives_the_same_bytes(tmp_path: Path, inline: dict[str, bytes]) -> None:
    project = write_project(tmp_path, project_files())
    result = briefing.build(project=project, jobs=2)
    assert result.ok, result.failures
    assert outputs_of(project) == inline


def test_manifest_in_recipient_order_after_chunks(inline: dict[str, bytes]) -> None:
    rows = list(csv.DictReader(inline["packs/batch/manifest.csv"].decode().splitlines()))
    assert [r["recipient"] for r in rows] == [f"Person {i}" for i in range(1, 6)]
    assert [int(r["size"]) for r in rows] == [len(inline[f"packs/batch/{r['file']}"])
                                              for r in rows]


def test_dask_cluster_on_loopback_gives_the_same_bytes(
    tmp_path: Path, inline: dict[str, bytes]
) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  scheduler_port=0) as cluster:
        project = write_project(tmp_path, project_files())
        result = run_briefing("build", "--scheduler", cluster.scheduler_address, "-j", "2",
                              cwd=project, timeout=240)
        assert result.returncode == 0, result.stderr
    assert outputs_of(project) == inline


def test_chunk_results_do_not_bring_the_laid_out_pack_back(tmp_path: Path) -> None:
    """A chunk's result from a worker leaves the laid-out pack there: the parent holds its one
    copy, not one unpickled per chunk (10,000 recipients grew the parent by 125 MB a 1,000)."""
    from briefing.jobs import batch
    from briefing.options import BuildOptions

    project = write_project(tmp_path, project_files())
    pack = project / "content/packs/batch.yaml"
    jobs, _ = batch.plan([pack], project=project, out_dir=project / "out",
                         options=BuildOptions(), workers=2)
    pool = batch.local_executor(2)
    try:
        results = batch.run(jobs, pool)
    finally:
        pool.shutdown()
    assert [r.failed for r in results] == [False, False]
    assert sum(len(r.copies) for r in results) == 5
    first, second = (r.job.rendered for r in results)
    assert first is not None and first is second  # the parent's own, shared by its chunks


def test_a_pool_of_our_own_is_replaced_after_its_share_of_jobs(
    tmp_path: Path, inline: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers are replaced by fresh processes after TASKS_PER_WORKER jobs each (WeasyPrint's
    native memory grows with every cover laid out): the same bytes come out, the old workers
    are gone, and no job is lost or run twice."""
    from briefing.jobs import batch
    from briefing.options import BuildOptions

    monkeypatch.setattr(batch, "TASKS_PER_WORKER", 1)  # two jobs a pool at -j 2
    project = write_project(tmp_path, project_files())
    paths = [project / "content/one.yaml", project / "content/two.yaml",
             project / "content/packs/batch.yaml"]
    jobs, _ = batch.plan(paths, project=project, out_dir=project / "out",
                         options=BuildOptions(), workers=2)
    pools: list[batch.Executor] = [batch.local_executor(2)]

    def restart() -> batch.Executor:
        pools.append(batch.local_executor(2))
        return pools[-1]

    finished: list[str] = []
    results = batch.run(jobs, pools[0], on_result=lambda r: finished.append(r.job.path.name),
                        restart=restart)
    pools[0].shutdown()
    # one, two | the pack's layout | its two chunks: three pools
    assert len(pools) == 3
    assert sorted(finished) == ["batch.yaml", "batch.yaml", "one.yaml", "two.yaml"]
    assert not any(r.failed for r in results)
    assert outputs_of(project) == inline
    import multiprocessing

    assert multiprocessing.active_children() == []  # every pool's workers have ended


def test_a_batch_of_covers_is_let_go_when_the_next_is_laid_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One process writing every copy (-j 1) keeps the shared parts parsed, but each batch of
    covers and stamps only while its copies are written: the parsed files in hand never grow
    with the recipients (every batch's were kept: 10,000 recipients, 100 batches)."""
    from briefing.jobs import pack as jobs_pack

    monkeypatch.setattr(jobs_pack, "COVERS_PER_RUN", 2)
    held: list[int] = []
    merged: list[int] = []
    real, real_assemble = jobs_pack.stamped, jobs_pack.assemble

    def spy(*args: object, **kwargs: object) -> bytes:
        cache = args[2]
        assert isinstance(cache, dict)
        pdf = real(*args, **kwargs)  # type: ignore[arg-type]
        held.append(len(cache))  # parsed files in hand once this copy is written
        return pdf

    def assembling(*args: object, **kwargs: object) -> bytes:
        merged.append(1)
        return real_assemble(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs_pack, "stamped", spy)
    monkeypatch.setattr(jobs_pack, "assemble", assembling)
    project = write_project(tmp_path, project_files())
    result = briefing.build([project / "content/packs/batch.yaml"], project=project, jobs=1)
    assert result.ok, result.failures
    assert len(held) == 5  # five copies, in batches of two: 2, 2, 1
    assert len(merged) == 1  # the copies' shared file, merged once; each copy is an update
    # the shared parts (while the first batch builds the copies' shared file from them), and
    # the stamps of the batch being written, no more: never more in a later batch
    assert held[0] == held[1] and held[2] == held[3] and held[4] <= held[3] <= held[1], held
