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
