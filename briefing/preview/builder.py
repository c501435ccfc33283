"""What the preview shows, rebuilt as files change: each document's web page, then its PDF.

A rebuild does the least it can. A document whose inputs (its YAML, the project file, the
project's templates, styles and images, the options) are what they were at its last build is
not touched. A changed one is prepared and its web page published first (tens of
milliseconds, so the browser reloads at once); its PDF follows, laying out again only the
parts whose HTML changed (jobs/document.py's part cache): an edit to one answer re-renders the
body, while cover and notes come from the cache. A failure never stops the preview: the page
keeps its last good state and shows the problems over it, until a save fixes them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from briefing.errors import BriefingError, Problem, shown_path
from briefing.jobs.parts import PartCache
from briefing.jobs.pipeline import Prepared, Request, compose, read, render, write
from briefing.options import BuildOptions
from briefing.output import safe_name
from briefing.render.html import page_html
from briefing.render.theme import theme_for
from briefing.source.load import load
from briefing.source.markdown import Composed
from briefing.source.pack import is_pack
from briefing.source.prepare import prepare
from briefing.source.project import load_project

LOG = logging.getLogger("briefing.preview")

#: folders of a project whose files are never inputs (outputs, version control, caches)
IGNORED_FOLDERS = frozenset({"out", ".git", "__pycache__", ".venv", "node_modules"})
#: files whose change alters the HTML (so the part cache still tells what to lay out again)
THEME_FOLDERS = ("templates", "styles")
#: rendered parts kept between rebuilds (a body is some tens of kilobytes)
MAX_CACHED_PARTS = 400


@dataclass(frozen=True)
class PageState:
    """One document as the preview serves it. `version` changes whenever what the web page
    shows changes (new HTML, new problems), `pdf_version` whenever a new PDF is ready."""

    name: str
    source: Path
    html: str | None = None
    pdf: Path | None = None
    problems: tuple[Problem, ...] = ()
    version: int = 0
    pdf_version: int = 0
    building: bool = False
    #: seconds the last web page and PDF took, for the status line
    page_seconds: float = 0.0
    pdf_seconds: float = 0.0


@dataclass(frozen=True)
class _Queued:
    """A PDF to build: `composed` for a document (None for a pack); `version`, the page's
    version it was made for, so an older PDF never replaces newer problems."""

    path: Path
    options: BuildOptions
    composed: Composed | None
    version: int


@dataclass
class PreviewBuilder:
    project: Path
    out_dir: Path
    options: BuildOptions = field(default_factory=BuildOptions)
    pages: dict[str, PageState] = field(default_factory=dict)
    part_cache: PartCache = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict)
    _assets: str = ""
    _changed: threading.Condition = field(default_factory=threading.Condition)
    #: set while PDFs or packs wait to be built (build_pending)
    queued: threading.Event = field(default_factory=threading.Event)
    _queue: dict[str, _Queued] = field(default_factory=dict)

    def documents(self) -> list[Path]:
        """The documents in `content/`."""
        found = []
        for path in sorted((self.project / "content").glob("*.yaml")):
            if not path.is_file() or path.name.startswith("."):
                continue
            try:
                if is_pack(load(path, shown_path(path))):
                    continue
            except BriefingError:
                pass  # a broken document is shown with its problems
            found.append(path)
        return found

    def packs(self) -> list[Path]:
        """The packs in `content/packs/` (a broken file there is shown as a pack)."""
        found = []
        for path in sorted((self.project / "content" / "packs").glob("*.yaml")):
            if not path.is_file() or path.name.startswith("."):
                continue
            try:
                if not is_pack(load(path, shown_path(path))):
                    continue
            except BriefingError:
                pass
            found.append(path)
        return found

    def state(self, name: str) -> PageState | None:
        with self._changed:
            return self.pages.get(name)

    def wait(self, name: str, version: int, pdf_version: int, timeout: float) -> PageState | None:
        """The page's state once it differs from the versions given, or after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                page = self.pages.get(name)
                if page is None or (page.version, page.pdf_version) != (version, pdf_version):
                    return page
                left = deadline - time.monotonic()
                if left <= 0:
                    return page
                self._changed.wait(left)

    def _publish(self, name: str, **changes: object) -> PageState:
        with self._changed:
            page = replace(self.pages[name], **changes)  # type: ignore[arg-type]
            self.pages[name] = page
            self._changed.notify_all()
            return page

    def rebuild(self, changed: Iterable[Path] = ()) -> list[str]:
        """Bring every page up to date with the files; the names rebuilt, edited ones first.
        Never raises for a problem of the content, the templates or the project file."""
        documents = self.documents()
        names = {safe_name(path.stem): path for path in documents}
        #: packs by `packs/NAME`: their own namespace, as under out/
        packs = {f"packs/{safe_name(path.stem)}": path for path in self.packs()}
        names.update(packs)
        with self._changed:
            for name, path in names.items():
                self.pages.setdefault(name, PageState(name, path))
            for gone in set(self.pages) - set(names):
                del self.pages[gone]
            self._changed.notify_all()
        assets = self._fingerprint(lambda p: p.suffix != ".yaml" and not self._theme_file(p))
        if assets != self._assets:  # an image or a font changed: the HTML does not show it
            self.part_cache.clear()
            self._assets = assets
        edited = {p.resolve() for p in changed}
        order = sorted(names.items(), key=lambda item: item[1].resolve() not in edited)
        settings_problems: tuple[Problem, ...] = ()
        options = self.options
        try:
            defaults = load_project(self.project).build
            if defaults.notes and options.notes == BuildOptions.notes:
                options = replace(options, notes=defaults.notes)
        except BriefingError as error:
            settings_problems = error.problems
        shared = self._fingerprint(lambda p: p.suffix != ".yaml") + repr(options)
        # a pack's inputs are its documents too: every content file counts for packs
        contents = self._fingerprint(lambda p: p.suffix == ".yaml") if packs else ""
        todo = []
        for name, path in order:
            own = shared + contents if name in packs else shared
            key = hashlib.sha256(_read(path) + own.encode()).hexdigest()
            if settings_problems:
                key = "broken project file"
            if self._keys.get(name) == key:
                continue
            self._keys[name] = key
            todo.append((name, path))
        composed: dict[str, Composed] = {}
        for name, path in todo:  # first every web page: what the browser reloads
            if settings_problems:
                self._fail(name, settings_problems)
                continue
            if name in packs:
                continue
            prepared = self._page(name, path, options)
            if prepared is not None:
                composed[name] = prepared
        # then the PDFs and the packs (their first copy is what is shown), queued for
        # build_pending: a newer version of the same document replaces one still waiting
        with self._changed:
            for name, path in todo:
                if name in composed or (name in packs and not settings_problems):
                    self._queue.pop(name, None)
                    self._queue[name] = _Queued(path, options, composed.get(name),
                                                self.pages[name].version)
            self.queued.set()
        return [name for name, _ in todo]

    def build_pending(self) -> list[str]:
        """Build every queued PDF and pack, documents first; the names built. Runs in its own
        thread in the preview, so a web page never waits for a PDF being laid out."""
        built = []
        while True:
            with self._changed:
                if not self._queue:
                    self.queued.clear()
                    break
                documents = [n for n, q in self._queue.items() if q.composed is not None]
                name = documents[0] if documents else next(iter(self._queue))
                item = self._queue.pop(name)
            if item.composed is not None:
                self._pdf(name, item.path, item.options, item.composed, item.version)
            else:
                self._pack(name, item.path, item.options, item.version)
            built.append(name)
        self._trim_cache()
        return built

    def _page(self, name: str, path: Path, options: BuildOptions) -> Composed | None:
        started = time.perf_counter()
        self._publish(name, building=True)
        try:
            composed = prepare(path, self.project, pdf_ua=options.pdf_ua, notes=options.notes)
            html = page_html(composed, theme_for(self.project))
        except Exception as error:  # never stop the preview: show it
            self._fail(name, self._problems(error, path))
            return None
        page = self.pages[name]
        self._publish(name, html=html, problems=composed.warnings, version=page.version + 1,
                      page_seconds=time.perf_counter() - started)
        LOG.info("%s: page in %.2f s", name, time.perf_counter() - started)
        return composed

    def _pdf(self, name: str, path: Path, options: BuildOptions, composed: Composed,
             version: int) -> None:
        started = time.perf_counter()
        request = Request(path, self.project, self.out_dir, replace(options, strict=False))
        try:
            rendered = render(Prepared(request, document=composed, warnings=composed.warnings),
                              part_cache=self.part_cache)
            [output] = write(rendered).outputs
        except Exception as error:
            if self.pages[name].version == version:  # not older than the page shown
                self._fail(name, self._problems(error, path))
            return
        page = self.pages[name]
        warnings = tuple(dict.fromkeys([*page.problems, *output.warnings]))
        changes: dict[str, object] = {"pdf": output.pdf, "pdf_version": page.pdf_version + 1,
                                      "building": False,
                                      "pdf_seconds": time.perf_counter() - started}
        if warnings != page.problems and page.version == version:
            changes.update(problems=warnings, version=page.version + 1)
        self._publish(name, **changes)
        LOG.info("%s: PDF in %.2f s", name, time.perf_counter() - started)

    def _pack(self, name: str, path: Path, options: BuildOptions, version: int) -> None:
        started = time.perf_counter()
        self._publish(name, building=True)
        request = Request(path, self.project, self.out_dir, replace(options, strict=False))
        try:
            prepared = compose(read(request))
            written = write(render(prepared, part_cache=self.part_cache))
        except Exception as error:
            if self.pages[name].version == version:
                self._fail(name, self._problems(error, path))
            return
        page = self.pages[name]
        warnings = tuple(dict.fromkeys(w for o in written.outputs for w in o.warnings))
        changes: dict[str, object] = {
            "pdf": written.outputs[0].pdf if written.outputs else None,
            "pdf_version": page.pdf_version + 1, "building": False,
            "pdf_seconds": time.perf_counter() - started}
        if warnings != page.problems:
            changes.update(problems=warnings, version=page.version + 1)
        self._publish(name, **changes)
        LOG.info("%s: pack in %.2f s", name, time.perf_counter() - started)

    def _trim_cache(self) -> None:
        """Parts of earlier versions are dropped, oldest first, past a few hundred."""
        while len(self.part_cache) > MAX_CACHED_PARTS:
            del self.part_cache[next(iter(self.part_cache))]

    def _fail(self, name: str, problems: tuple[Problem, ...]) -> None:
        page = self.pages[name]
        self._publish(name, problems=problems, version=page.version + 1, building=False)

    def _problems(self, error: Exception, path: Path) -> tuple[Problem, ...]:
        if isinstance(error, BriefingError):
            return error.problems
        shown = shown_path(path)
        LOG.debug("unexpected error building %s\n%s", path, traceback.format_exc())
        return (Problem(shown, None, f"internal error ({type(error).__name__}: {error})"),)

    def _theme_file(self, path: Path) -> bool:
        try:
            return path.relative_to(self.project).parts[0] in THEME_FOLDERS
        except ValueError:
            return False

    def _fingerprint(self, keep: Callable[[Path], bool]) -> str:
        """Name, size and modification time of every input file of the project that `keep`
        accepts; a few hundred files take about a millisecond."""
        entries = []
        for folder, dirs, files in os.walk(self.project):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in IGNORED_FOLDERS)
            for file in sorted(files):
                path = Path(folder, file)
                if file.startswith(".") or not keep(path):
                    continue
                try:
                    info = path.stat()
                except OSError:
                    continue
                entries.append(f"{path}\0{info.st_size}\0{info.st_mtime_ns}")
        return hashlib.sha256("\n".join(entries).encode()).hexdigest()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""

