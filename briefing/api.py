"""The library API: check and build documents. The CLI is a thin shell over these functions."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from briefing.errors import BriefingError, Problem, shown_path
from briefing.jobs.outputs import Output
from briefing.options import BuildOptions
from briefing.output import safe_name
from briefing.source.load import UsableTree, load, read_content_file
from briefing.source.pack import is_pack, validate_pack
from briefing.source.prepare import every_problem, prepare, prepare_loaded
from briefing.source.project import BuildDefaults, ProjectSettings, load_project, unknown_words

if TYPE_CHECKING:
    from briefing.jobs.batch import Job, JobResult

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
                   if _visible_file(p) and _maybe_pack(p, project))
    return documents + packs


def _visible_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".")


def _maybe_pack(path: Path, project: Path) -> bool:
    """A pack, or a broken file in packs/: its problems are reported when it is checked or
    built, and never stop the other documents from being found."""
    try:
        return is_pack(load(path, shown_path(path), project=project))
    except BriefingError:
        return True


def _writes_a_pack(path: Path, project: Path) -> bool:
    """Whether the file's outputs go under `packs/` (a file that cannot be read is built, and
    reported, as whatever its folder says)."""
    return path.parent.name == "packs" or _looks_like(path, project, _PACK_KEY)


def check(
    paths: Sequence[Path] | None = None, *, project: Path | None = None, pdf_ua: bool = False
) -> CheckResult:
    """Validate without rendering (WeasyPrint is never imported): every problem of every file."""
    project = project or find_project()
    documents = tuple(paths) if paths else tuple(discover(project))
    if not documents:
        raise BriefingError.at(project / "content", None, "no documents (*.yaml) to check")
    problems: list[Problem] = []
    try:
        project_settings(project)
    except BriefingError as error:
        problems.extend(error.problems)
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
    try:
        loaded = load(path, shown, project=project)
    except UsableTree as usable:  # a duplicate key: the rest of the file is checked too
        every_problem(usable, project, shown, notes=load_project(project).build.notes or "end")
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
    paper: str | None = None,
    strict: bool | None = None,
    profile: str | None = None,
    email_budget: int | None = None,
    pdf_a: bool | None = None,
    jobs: int | Literal["auto"] | None = None,
    executor: Executor | None = None,
    on_result: Callable[[JobResult], None] | None = None,
    on_plan: Callable[[Sequence[Job]], None] | None = None,
    pdf_ua: bool | None = None,
    handout: int | None = None,
    notes: str | None = None,
    output: Path | None = None,
    print_links: bool | None = None,
    reuse: bool = False,
) -> BuildResult:
    """Build documents and packs into `out_dir`; one failure does not stop the others.

    An option left at None takes the project file's value (briefing.toml, `[build]`), else
    the built-in default. With `jobs` > 1 the outputs are built in that many worker
    processes; `"auto"` picks a number that is never slower than one on a small project
    (see auto_workers). Any `concurrent.futures` executor (a Dask client's, say) can be given
    instead, and then `jobs` is how many chunks a pack's recipients are split into. `pdf_a`
    makes PDF/A-3b files that carry their YAML sources (see finish/pdfa.py). `output` names
    the PDF of a single document instead of `out_dir` and its file name (see
    output.chosen_paths). `print_links` prints each web link's address after its text
    (default: in the print, booklet and handout profiles). `reuse`, for a process that builds
    again and again (a preview): parts whose inputs did not change are not laid out again.
    """
    from briefing.jobs.batch import local_executor, plan, run, stop_workers
    from briefing.jobs.parts import source_date

    source_date(None)  # a SOURCE_DATE_EPOCH no PDF can hold fails once, before any job

    project = project or find_project()
    settings = project_settings(project)
    options = build_options(settings.build, paper=paper, strict=strict, profile=profile,
                            email_budget=email_budget, pdf_a=pdf_a, pdf_ua=pdf_ua,
                            handout=handout, notes=notes)
    if print_links is not None:
        options = replace(options, print_links=print_links)
    if reuse:
        options = replace(options, reuse=True)
    out_dir = out_dir or project / (settings.build.out or "out")
    if output is not None:
        problem = output_problem(paths)
        if problem:
            raise BriefingError.at("--output", None, problem)
    documents = list(paths) if paths else discover(project)
    if not documents:
        raise BriefingError.at(project / "content", None, "no documents (*.yaml) to build")
    if isinstance(jobs, int):
        workers = jobs
    elif settings.build.jobs:
        workers = settings.build.jobs
    else:
        workers = auto_workers(len(documents)) if jobs == "auto" else 1
    clashes = _name_clashes(documents, project)
    parallel = executor is not None or workers > 1
    job_list, failed = plan([p for p in documents if p not in clashes], project=project,
                            out_dir=out_dir, options=options,
                            workers=max(workers, 1) if parallel else 1, output=output)
    # one pack alone still gets workers: its recipients' copies are split among them
    splits = len(job_list) == 1 and _copies(job_list[0].path, project) > 1
    size = workers if splits else min(workers, len(job_list))
    own = (local_executor(size)
           if executor is None and workers > 1 and (len(job_list) > 1 or splits) else None)
    if on_plan is not None:  # what will run, for a progress display ("3/5")
        on_plan(job_list)
    try:
        results = run(job_list, own or executor, on_result,
                      restart=(lambda: local_executor(size)) if own else None)
    except BaseException:  # Ctrl-C, SIGTERM: queued jobs are dropped, running ones stopped
        if own is not None:
            stop_workers(own)
        raise
    if own is not None:
        own.shutdown()
    outputs = tuple(o for r in results for o in r.outputs)
    # a pack split into chunks fails once, with every chunk's problems
    by_path: dict[Path, list[Problem]] = {path: list(e.problems) for path, e in clashes.items()}
    for r in [*failed, *results]:
        if r.failed:
            by_path.setdefault(r.job.path, []).extend(r.problems)
    failures = tuple((path, BriefingError(dict.fromkeys(problems)))
                     for path, problems in by_path.items())
    return BuildResult(outputs, failures)


#: a pack's top-level `items:` and a `recipients:` that names a file: found in the raw text,
#: so deciding how to run a build parses nothing (each file is parsed once, by its job)
_PACK_KEY = re.compile(rb"^items[ \t]*:", re.MULTILINE)
_RECIPIENTS_KEY = re.compile(rb"^recipients[ \t]*:[ \t]*(?![~#]|null\b|\r?$)\S", re.MULTILINE)


def _looks_like(path: Path, project: Path, key: re.Pattern[bytes]) -> bool:
    try:
        return bool(key.search(read_content_file(path, shown_path(path), project)))
    except BriefingError:
        return False


def _copies(path: Path, project: Path) -> int:
    """2 for a pack that names a recipients list (it is split among workers), else 0."""
    if _looks_like(path, project, _PACK_KEY) and _looks_like(path, project, _RECIPIENTS_KEY):
        return 2
    return 0


def output_problem(paths: Sequence[Path] | None) -> str | None:
    """Why `-o/--output` cannot name the output of these files, or None when it can: it names
    one document's PDF, so it takes exactly one file, and not a pack (one PDF per recipient)."""
    count = len(paths or ())
    if count != 1:
        given = "none was given" if not count else f"{count} were given"
        return (f"-o/--output names the PDF of one document: give exactly one file ({given}); "
                "use --out DIR for the folder of several")
    path = next(iter(paths or ()))
    try:
        pack = is_pack(load(path, shown_path(path)))
    except BriefingError:
        return None  # the build reports what is wrong with the file
    if pack:
        return (f"-o/--output names the PDF of one document, and {shown_path(path)} is a pack "
                "(its PDFs are named after the pack and each recipient); use --out DIR for "
                "their folder")
    return None


def project_settings(project: Path) -> ProjectSettings:
    """briefing.toml, checked, its `[strings]` words against the theme's string table too."""
    from briefing.render.strings import ENGLISH

    settings = load_project(project)
    unknown = unknown_words(settings, ENGLISH)
    if unknown:
        raise BriefingError(unknown)
    return settings


def build_options(defaults: BuildDefaults, *, paper: str | None = None,
                  strict: bool | None = None, profile: str | None = None,
                  email_budget: int | None = None, pdf_a: bool | None = None,
                  pdf_ua: bool | None = None, handout: int | None = None,
                  notes: str | None = None) -> BuildOptions:
    """The options of a build: what was given, else the project file's, else the default."""
    from briefing.options import as_paper, as_profile

    def pick(given: object, default: object, builtin: object) -> Any:
        return given if given is not None else default if default is not None else builtin

    base = BuildOptions()
    options = BuildOptions(
        paper=as_paper(pick(paper, defaults.paper, base.paper)),
        strict=pick(strict, defaults.strict, base.strict),
        profile=as_profile(pick(profile, defaults.profile, base.profile)),
        email_budget=pick(email_budget, defaults.email_budget, base.email_budget),
        pdf_a=pick(pdf_a, defaults.pdf_a, base.pdf_a),
        pdf_ua=pick(pdf_ua, defaults.pdf_ua, base.pdf_ua),
        handout=pick(handout, defaults.handout, base.handout),
        notes=pick(notes, defaults.notes, base.notes),
    )
    if options.pdf_ua:
        from briefing.source.accessible import check_profile as check_tagged_profile

        check_tagged_profile(options.profile)
    if options.handout not in (2, 4):
        raise BriefingError.at("--handout", None, "handouts are 2-up or 4-up")
    return options


def auto_workers(count: int) -> int:
    """Worker processes for `count` outputs when none is asked for. Each worker pays about a
    second to start (importing WeasyPrint and loading fonts), so a small build runs in this
    process: one worker until there are more outputs than that costs, then one per core."""
    import os

    cores = os.cpu_count() or 1
    if count <= SMALL_BUILD or cores < 2:
        return 1
    return min(cores, count)


#: builds of this many outputs or fewer run in one process (see auto_workers)
SMALL_BUILD = 3


def _name_clashes(documents: Sequence[Path], project: Path) -> dict[Path, BriefingError]:
    """Output names come from file names made safe (`a b.yaml` and `a-b.yaml` both give
    `a-b`), and case-insensitive disks fold case: a later file would overwrite an earlier
    one's PDF, so it fails instead. Packs write under `packs/`, a namespace of their own,
    wherever the pack file is (`content/x.yaml` and `content/packs/x.yaml` both write
    `packs/x.pdf`)."""
    taken: dict[tuple[str, bool], Path] = {}
    clashes: dict[Path, BriefingError] = {}
    for path in documents:
        name = safe_name(path.stem)
        key = (name.casefold(), _writes_a_pack(path, project))
        if key in taken and taken[key].resolve() != path.resolve():
            clashes[path] = BriefingError.at(
                shown_path(path), None, f"its output name `{name}` is already used by "
                f"{shown_path(taken[key])}; rename one of the two files",
            )
        taken.setdefault(key, path)
    return clashes


