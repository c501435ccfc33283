"""The library API: check and build documents. The CLI is a thin shell over these functions."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from briefing.errors import BriefingError, Problem, shown_path
from briefing.jobs.outputs import Output
from briefing.options import BuildOptions
from briefing.output import safe_name
from briefing.source.load import load
from briefing.source.pack import is_pack, validate_pack
from briefing.source.prepare import prepare, prepare_loaded

if TYPE_CHECKING:
    from briefing.jobs.batch import JobResult

LOG = logging.getLogger("briefing")


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
    """The warnings of one document or pack; its errors raise BriefingError. A pack is
    checked with its documents, as its build composes them (an image a document names is
    looked for beside that document)."""
    shown = shown_path(path)
    loaded = load(path, shown)
    if not is_pack(loaded):
        return prepare_loaded(loaded, project, shown, pdf_ua=pdf_ua).warnings
    pack = validate_pack(loaded, project, shown)
    warnings: list[Problem] = list(loaded.warnings)
    errors: list[Problem] = []
    for item in pack.items:
        if item.kind == "document":
            try:
                warnings.extend(prepare(item.path, project, pdf_ua=pdf_ua).warnings)
            except BriefingError as error:
                errors.extend(error.problems)
    if errors:
        raise BriefingError(dict.fromkeys([*errors, *warnings]))
    return tuple(dict.fromkeys(warnings))


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
    reuse: bool = False,
) -> BuildResult:
    """Build documents and packs into `out_dir`; one failure does not stop the others.

    With `jobs` > 1 the outputs are built in that many worker processes; any
    `concurrent.futures` executor (a Dask client's, say) can be given instead, and then `jobs`
    is how many chunks a pack's recipients are split into. `pdf_a` makes PDF/A-3b files
    that carry their YAML sources (see finish/pdfa.py). `reuse`, for a process that builds
    again and again (a preview): parts whose inputs did not change are not laid out again.
    """
    from briefing.jobs.batch import local_executor, plan, run
    from briefing.options import as_paper, as_profile

    checked_profile, checked_paper = as_profile(profile), as_paper(paper)
    if pdf_ua:
        from briefing.source.accessible import check_profile as check_tagged_profile

        check_tagged_profile(profile)
    options = BuildOptions(paper=checked_paper, strict=strict, profile=checked_profile,
                           pdf_a=pdf_a, pdf_ua=pdf_ua, reuse=reuse,
                           email_budget=email_budget or BuildOptions.email_budget)
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


