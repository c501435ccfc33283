"""The `briefing` command: a thin shell over the library API in briefing.build."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from briefing.errors import BriefingError, Problem, printable, shown_path


def _console(stderr: bool = False):  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _report(problems: tuple[Problem, ...] | list[Problem]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="briefing")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option("-v", "--verbose", is_flag=True, help="Log each pipeline stage.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: bool) -> None:
    """Build printable briefing documents from the YAML files in content/."""
    ctx.obj = {"debug": debug}
    if verbose or debug:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")


def _paths(files: tuple[str, ...]) -> list[Path]:
    paths = [Path(f) for f in files]
    for path in paths:
        if not path.is_file():
            raise click.BadParameter(f"{printable(str(path))}: no such file",
                                     param_hint="FILES")
    return paths


def _project(files: list[Path]) -> Path:
    from briefing.api import find_project

    start = files[0].resolve().parent if files else None
    try:
        return find_project(start)
    except BriefingError as error:
        raise click.UsageError(printable(str(error))) from None


def _log_options(command: Any) -> Any:
    """`--debug` and `-v` after the command too (`briefing build -v`), as before it."""

    def debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value:
            root = ctx.find_root()
            root.obj = {**(root.obj or {}), "debug": True}
            _log()

    def verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value:
            _log()

    command = click.option("--debug", is_flag=True, expose_value=False, callback=debug,
                           help="Show tracebacks for errors.")(command)
    return click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=verbose,
                        help="Log each pipeline stage.")(command)


def _log() -> None:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: out/ in the project, or build.out).")
@click.option("-o", "--output", "output_pdf", type=click.Path(dir_okay=False, path_type=Path),
              help="The PDF of a single document (its web page: the same name, .html).")
@click.option("--paper", type=click.Choice(["a4", "letter", "a5"]), default=None,
              help="Paper size of the PDF (default: a4, or build.paper).")
@click.option("--strict/--no-strict", default=None,
              help="Treat warnings as errors (default: no, or build.strict).")
@click.option("--profile", type=click.Choice(["screen", "email", "print", "booklet", "handout"]),
              default=None, help="What the PDF is for (default: screen, or build.profile).")
@click.option("--handout", "handout", type=click.Choice(["2-up", "4-up"]), default=None,
              help="Pages to a sheet in the handout profile (default: 2-up, or build.handout).")
@click.option("--notes", type=click.Choice(["end", "page"]), default=None,
              help="Where notes go in documents that do not say (default: end, or build.notes).")
@click.option("--email-budget", type=click.FloatRange(min=0.01), default=None, metavar="MB",
              help="Largest PDF the email profile accepts (default 5 MB).")
@click.option("--pdf-a/--no-pdf-a", "pdf_a", default=None,
              help="Archival PDF/A-3b that carries its YAML sources (see `briefing extract`).")
@click.option("--pdf-ua/--no-pdf-ua", "pdf_ua", default=None,
              help="Accessible PDF/UA-1: tagged, one structure tree (not booklet/handout).")
@click.option("--print-links/--no-print-links", "print_links", default=None,
              help="Print each web link's address after its text (default: print, booklet "
                   "and handout profiles).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Outputs built in parallel (default: build.jobs, else as many as help).")
@click.option("--scheduler", metavar="ADDRESS", callback=lambda ctx, param, value:
              _scheduler_address(value),
              help="Run the batch on a Dask cluster, e.g. tcp://host:8786 (briefing[dask]).")
@_log_options
@click.pass_context
def build(ctx: click.Context, files: tuple[str, ...], out_dir: Path | None, paper: str | None,
          strict: bool | None, profile: str | None, email_budget: float | None,
          jobs: int | None, scheduler: str | None, pdf_a: bool | None,
          pdf_ua: bool | None = None, handout: str | None = None,
          notes: str | None = None, output_pdf: Path | None = None,
          print_links: bool | None = None) -> None:
    """Build FILES (default: every document and pack in content/) into PDF and HTML.

    Options not given come from the project file, briefing.toml ([build])."""
    from briefing import api
    from briefing.jobs.batch import JobResult

    if pdf_ua and profile:
        from briefing.source.accessible import profile_problem

        problem = profile_problem(profile)
        if problem:
            raise click.UsageError(problem)
    paths = _paths(files)
    if output_pdf is not None and (problem := api.output_problem(paths)):
        raise click.UsageError(problem)
    project = _project(paths)
    # a progress bar only on a terminal: a build whose output goes to a file or a pipe does
    # not load Rich (30 ms)
    progress = _Progress(_console(stderr=True) if sys.stderr.isatty() else None)

    def on_result(result: JobResult) -> None:
        progress.advance(result)

    try:
        executor = _connect(scheduler) if scheduler else None
        with progress:
            result = api.build(
                paths or None, project=project, out_dir=out_dir, paper=paper, strict=strict,
                profile=profile, jobs=jobs or "auto", executor=executor,
                on_result=on_result, on_plan=progress.plan, pdf_ua=pdf_ua, pdf_a=pdf_a,
                handout=int(handout[0]) if handout else None, notes=notes, output=output_pdf,
                print_links=print_links,
                email_budget=int(email_budget * 1024 * 1024) if email_budget else None,
            )
    except BriefingError as error:
        if (ctx.find_root().obj or {}).get("debug"):
            raise
        _report(error.problems)
        sys.exit(1)
    for output in result.outputs:
        _report(output.warnings)
    for _, failure in result.failures:
        _report(failure.problems)
    if result.outputs:  # no empty table when nothing was built
        click.echo(_summary(result))
    removed = [path for output in result.outputs for path in output.removed]
    if removed:
        click.echo(f"removed {len(removed)} copy(ies) of recipients no longer in the "
                   "recipients file:", err=True)
        for path in removed:
            click.echo(f"  {_display(path)}", err=True)
    if result.failures:
        names = ", ".join(dict.fromkeys(_display(path) for path, _ in result.failures))
        click.echo(f"{len(result.outputs)} built, {len(result.failures)} failed: {names}",
                   err=True)
        sys.exit(1)


#: the address schemes Dask's distributed knows
_SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")


def _usage_error(message: str) -> NoReturn:
    """A usage error as one line (exit 2), without click's usage banner."""
    click.echo(f"briefing: {printable(message)}", err=True)
    sys.exit(2)


def _scheduler_address(value: str | None) -> str | None:
    """`--scheduler`: `[scheme://]host:port`, checked before anything is built."""
    if value is None:
        return None
    scheme, sep, rest = value.strip().partition("://")
    if not sep:
        scheme, rest = "tcp", value.strip()
    if scheme.lower() not in _SCHEDULER_SCHEMES:
        _usage_error(f"--scheduler {value}: unknown address scheme `{scheme}` (use "
                     f"{', '.join(s + '://' for s in _SCHEDULER_SCHEMES)}), e.g. "
                     "tcp://host:8786")
    if scheme.lower() != "inproc":
        host, colon, port = rest.rstrip("/").rpartition(":")
        if not colon or not host.strip("[]") or not port.isdigit() \
                or not 0 < int(port) < 65536:
            _usage_error(f"--scheduler {value}: needs a host and a port, e.g. tcp://host:8786")
    return value


def _connect(scheduler: str) -> Any:
    """The Dask executor, or a one-line usage error when the scheduler cannot be reached."""
    from briefing.jobs.batch import dask_executor

    try:
        return dask_executor(scheduler)
    except BriefingError:
        raise
    except (OSError, ValueError, TimeoutError) as exc:
        _usage_error(f"--scheduler {scheduler}: cannot connect: {exc}")


class _Progress:
    """A progress bar on a terminal ("3/5", and the files still being built); one plain line
    per finished job otherwise ("[3/5] content/x.yaml: 1 output(s) (1.2 s)")."""

    def __init__(self, console: Any):
        self.console = console
        self.bar: Any = None
        self.done = 0
        self.total: int | None = None
        self.pending: list[Any] = []

    def __enter__(self) -> _Progress:
        if self.console is not None and self.console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(TextColumn("Building"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[what]}"), TimeElapsedColumn(),
                                console=self.console, transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task("build", total=None, what="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def plan(self, jobs: Any) -> None:
        self.total = len(jobs)
        self.pending = list(jobs)
        if self.bar is not None:
            self.bar.update(self.task, total=self.total, what=self._building())

    def _building(self) -> str:
        names = list(dict.fromkeys(_display(job.path) for job in self.pending))
        if not names:
            return ""
        more = f" and {len(names) - 1} more" if len(names) > 1 else ""
        return f"building {names[0]}{more}"

    def advance(self, result: Any) -> None:
        self.done += 1
        key = (result.job.path, result.job.recipients)
        self.pending = [j for j in self.pending if (j.path, j.recipients) != key]
        what = _display(result.job.path)
        state = "failed" if result.failed else f"{len(result.outputs)} output(s)"
        count = f"{self.done}/{self.total}" if self.total else str(self.done)
        if self.bar is not None:
            self.bar.update(self.task, advance=1, what=self._building() or f"{what}: {state}")
        else:
            click.echo(f"[{count}] {what}: {state} ({result.seconds:.1f} s)", err=True)


def _summary(result: Any) -> str:
    """The table printed at the end: output, pages, size, time."""
    rows = [("output", "pages", "size", "time")]
    for output in result.outputs:
        rows.append((_display(output.pdf), str(output.pages), _size(output.size),
                     f"{output.seconds:.1f} s"))
        if output.html is not None:
            rows.append((_display(output.html), "", _size(output.html.stat().st_size), ""))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{r[0]:<{width}}  {r[1]:>5}  {r[2]:>8}  {r[3]:>7}".rstrip() for r in rows)


def _display(path: Path) -> str:
    """A path for the terminal: relative when possible, control characters escaped."""
    return printable(shown_path(path))


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format of the problems.")
@click.option("--pdf-ua", "pdf_ua", is_flag=True,
              help="Also what --pdf-ua builds need (images with alternative text).")
@_log_options
def check(files: tuple[str, ...], strict: bool, fmt: str, pdf_ua: bool = False) -> None:
    """Validate FILES (default: every content/*.yaml) without rendering."""
    from briefing import api

    paths = _paths(files)
    project = _project(paths)
    try:
        result = api.check(paths or None, project=project, pdf_ua=pdf_ua)
    except BriefingError as error:
        result = api.CheckResult((), error.problems)
    failed = result.failed(strict)
    if fmt == "json":
        click.echo(json.dumps({
            "documents": [_display(p) for p in result.documents],
            "problems": [
                {"path": printable(str(p.path)), "line": p.line, "severity": p.severity,
                 "message": printable(p.message)}
                for p in result.problems
            ],
            "ok": not failed,
        }, ensure_ascii=False, indent=2))
    else:
        _report(result.problems)
        errors = sum(p.is_error for p in result.problems)
        warnings = len(result.problems) - errors
        count = f"{len(result.documents)} document(s)"
        if result.problems:
            click.echo(f"{count}: {errors} error(s), {warnings} warning(s)"
                       f"{' (--strict: warnings fail)' if strict and warnings else ''}", err=True)
        else:
            click.echo(f"{count} OK", err=True)
    sys.exit(1 if failed else 0)


@cli.command()
@click.argument("pdf", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), help="Folder to write the sources under (default: here).")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@_log_options
def extract(pdf: Path, out_dir: Path, force: bool) -> None:
    """Write the YAML sources embedded in a `--pdf-a` PDF back out, byte for byte."""
    from briefing.finish.pdfa import embedded_sources, read_archival_pdf, write_sources

    shown = printable(str(pdf))
    try:
        data = read_archival_pdf(pdf, shown)
        written = write_sources(embedded_sources(data, shown), out_dir, shown=shown,
                                force=force)
    except BriefingError as error:
        _report(error.problems)
        sys.exit(1)
    for path in written:
        click.echo(_display(path))


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the loopback interface: only this machine).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
@click.option("--paper", type=click.Choice(["a4", "letter", "a5"]), default=None,
              help="Paper size of the PDF (default: a4, or build.paper).")
@click.option("--profile", type=click.Choice(["screen", "email", "print", "booklet", "handout"]),
              default=None, help="What the PDF is for (default: screen, or build.profile).")
@click.option("--notes", type=click.Choice(["end", "page"]), default=None,
              help="Where notes go in documents that do not say (default: build.notes).")
@_log_options
def preview(file: str | None, host: str, port: int, open_browser: bool, paper: str | None,
            profile: str | None, notes: str | None) -> None:
    """Serve the documents at http://127.0.0.1:8000/ and rebuild them as you save.

    The page reloads by itself; a problem shows over the page with its file and line until
    the save that fixes it. FILE: the document to open first. Ctrl-C stops."""
    import time

    from briefing.api import build_options, project_settings
    from briefing.output import safe_name
    from briefing.preview import preview_server

    paths = _paths((file,) if file else ())
    project = _project(paths)
    try:
        defaults = project_settings(project).build
    except BriefingError as error:
        _report(error.problems)
        sys.exit(1)
    try:
        options = build_options(defaults, paper=paper, profile=profile, notes=notes)
    except BriefingError as error:
        _report(error.problems)
        sys.exit(1)
    server = preview_server(project, options=options, host=host, port=port,
                            first=safe_name(paths[0].stem) if paths else None)
    try:
        server.start()
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}"
                               ) from None
    click.echo(f"Preview at {server.url}  (Ctrl-C to stop)", err=True)
    for page in server.builder.pages.values():
        _report(page.problems)
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)

    def on_rebuild(names: list[str]) -> None:
        for name in names:
            page = server.builder.state(name)
            if page is not None:
                _report(page.problems)
                if not any(p.is_error for p in page.problems):
                    click.echo(f"{name}: rebuilt (page {page.page_seconds:.2f} s, "
                               f"PDF {page.pdf_seconds:.2f} s)", err=True)

    server.on_rebuild = on_rebuild
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
    finally:
        server.stop()


@cli.command()
@click.argument("folder", required=False, default=".",
                type=click.Path(file_okay=False, path_type=Path))
@_log_options
def new(folder: Path) -> None:
    """Start a project in FOLDER (default: here): a commented FAQ, a pack, briefing.toml.

    Never overwrites: a folder that already has a project, or any of the files, is refused."""
    from briefing.starter import create_project

    try:
        written = create_project(folder)
    except BriefingError as error:
        _report(error.problems)
        sys.exit(1)
    click.echo(f"Created a briefing project in {_display(folder)} ({len(written)} files):")
    for path in written:
        click.echo(f"  {_display(path)}")
    where = "" if folder.resolve() == Path.cwd().resolve() else f"cd {_display(folder)} && "
    click.echo(f"Next: {where}briefing build   (or: briefing preview, to watch your edits)")


@cli.command()
@click.argument("pack", type=click.Path(dir_okay=False))
@click.option("--deliver", is_flag=True,
              help="Really send, over SMTP. Without it: a dry run that writes .eml files.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder the pack was built into (default: out/ in the project).")
@click.option("--email-budget", type=click.FloatRange(min=0.01), default=None, metavar="MB",
              help="Largest copy that may be attached (default 5 MB).")
@click.option("--host", default=None, help="SMTP server (default: [mail] host).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="SMTP port.")
@click.option("--security", type=click.Choice(["starttls", "tls", "none"]), default=None,
              help="STARTTLS (default), implicit TLS, or none (localhost only).")
@click.option("--rate-limit", type=click.FloatRange(min=0), default=None, metavar="N",
              help="At most N messages a minute (default: [mail] rate_limit, or no limit).")
@click.option("--resend-changed", is_flag=True,
              help="Send again the copies that changed since they were sent.")
@_log_options
@click.pass_context
def send(ctx: click.Context, pack: str, deliver: bool, out_dir: Path | None,
         email_budget: float | None, host: str | None, port: int | None,
         security: str | None, rate_limit: float | None, resend_changed: bool) -> None:
    """E-mail each recipient of PACK their built copy (a dry run unless --deliver).

    Sender, reply-to, signature and the SMTP server come from the [mail] table of
    briefing.toml; the password from BRIEFING_SMTP_USER / BRIEFING_SMTP_PASSWORD or netrc.
    A send log beside the copies means a re-run never sends a copy twice.
    """
    from briefing.send import send_pack

    paths = _paths((pack,))
    project = _project(paths)
    overrides = {key: value for key, value in (("host", host), ("port", port),
                                                ("security", security),
                                                ("rate_limit", rate_limit)) if value is not None}

    def on_attempted(attempted: Any) -> None:
        word = "sent" if attempted.outcome == "sent" else "FAILED"
        click.echo(f"{word}: {printable(attempted.outgoing.address)}: "
                   f"{printable(attempted.detail)}", err=True)

    try:
        report = send_pack(paths[0], project=project, out_dir=out_dir, deliver_now=deliver,
                           budget=int(email_budget * 1024 * 1024) if email_budget else None,
                           resend_changed=resend_changed, overrides=overrides,
                           on_attempted=on_attempted)
    except BriefingError as error:
        if (ctx.find_root().obj or {}).get("debug"):
            raise
        _report(error.problems)
        sys.exit(1)
    click.echo(_send_summary(report))
    sys.exit(0 if report.ok else 1)


def _send_summary(report: Any) -> str:
    """Who gets what: one row per recipient, then the counts."""
    plan, config, delivery = report.plan, report.config, report.delivery
    outcome = {a.outgoing.address: a for a in delivery.attempted} if delivery else {}
    rows = [("recipient", "address", "copy", "size", "status")]
    for planned in plan.planned:
        out = planned.outgoing
        status = planned.status
        if out.address in outcome:
            attempted = outcome[out.address]
            status = "sent" if attempted.outcome == "sent" else f"failed: {attempted.detail}"
        elif delivery is not None and status == "to send":
            status = "not tried"
        elif status == "already sent" and planned.logged is not None:
            status = f"already sent {planned.logged.sent_at}"
        rows.append((out.recipient.name, out.address, _display(out.copy),
                     _size(out.attachment_size), status))
    widths = [max(len(printable(r[i])) for r in rows) for i in range(4)]
    lines = ["  ".join(f"{printable(r[i]):<{widths[i]}}" if i != 3 else f"{r[i]:>{widths[i]}}"
                       for i in range(4)) + "  " + printable(r[4]) for r in rows]
    budget = _size(plan.budget)
    over = plan.with_status("over budget")
    changed = plan.with_status("changed since sent")
    via = (f"from {config.sender} via {config.host}:{config.port} ({config.security})"
           + (f", at most {config.rate_limit:g} a minute" if config.rate_limit else ""))
    if delivery is None:
        to_send = plan.with_status("to send")
        total = sum(p.outgoing.attachment_size for p in to_send)
        lines.append(f"dry run, nothing sent: {len(to_send)} to send ({_size(total)}), "
                     f"{len(plan.with_status('already sent'))} already sent, "
                     f"{len(changed)} changed since sent, {len(over)} over the {budget} "
                     "e-mail budget")
        lines.append(f"messages written beside the copies ({_display(plan.folder)}/*.eml); "
                     f"{via}; send them with --deliver")
    else:
        sent = sum(a.outcome == "sent" for a in delivery.attempted)
        failed = sum(a.outcome == "failed" for a in delivery.attempted)
        lines.append(f"sent {sent}, skipped {len(plan.with_status('already sent'))} "
                     f"(already sent), failed {failed}"
                     + (f", changed since sent {len(changed)} (not sent; --resend-changed)"
                        if changed else "")
                     + (f", over the {budget} budget {len(over)}" if over else "")
                     + f"; {via}")
        if delivery.stopped is not None:
            tried = len(delivery.attempted)
            lines.append(f"stopped after {tried} message(s): {delivery.stopped}; run again "
                         "to send the rest")
    return "\n".join(line.rstrip() for line in lines)


def main() -> None:
    """The console script. Once the command has finished (its outputs written and synced by
    write_atomic, worker processes shut down), the process ends at once: tearing down the
    interpreter's modules (WeasyPrint, Pango, pypdf) would only cost time."""
    from briefing.output import terminate_as_exception

    terminate_as_exception()
    try:
        cli(prog_name="briefing")
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if done.code is not None and not isinstance(done.code, int):
            print(done.code, file=sys.stderr)
    logging.shutdown()
    rendering = sys.modules.get("briefing.render.pdf")
    if rendering is not None:  # os._exit runs no exit handler: a project's copied fonts
        rendering.remove_font_folders()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing left to say
            stream.flush()
    os._exit(code)
