"""Stage 5: one HTML part becomes a PDF with WeasyPrint, plus where each anchor landed.

The anchors (page and position of every element with an id) are what lets the assembler link
across separately rendered parts and build the outline of the merged file.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from briefing.errors import BriefingError, Problem
from briefing.render.fetcher import project_fetcher
from briefing.render.libraries import load_weasyprint
from briefing.render.timelimit import (
    TIME_LIMIT_ENV,
    TimeLimitExceeded,
    install_layout_checks,
    time_limit,
    time_limit_for,
)
from briefing.source.khmer import ZWSP, zero_width_breaks
from briefing.source.markdown import XREF_SCHEME

PX_TO_PT = 0.75
LOG = logging.getLogger("briefing")


@dataclass(frozen=True)
class Anchor:
    """A position in PDF user space (points, origin at the bottom left) on a part's page."""

    page: int
    x: float
    y: float


@dataclass(frozen=True)
class RenderedPart:
    name: str
    pdf: bytes
    page_sizes: tuple[tuple[float, float], ...]
    anchors: dict[str, Anchor] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()
    #: tagged parts: the text of each page's link annotations, in order (see assemble/tags.py)
    link_texts: tuple[tuple[str, ...], ...] = ()

    @property
    def page_count(self) -> int:
        return len(self.page_sizes)


#: link targets kept as live links in a PDF part; `x-briefing:` links are the templates'
#: own cross-part references (content cannot write them: see markdown.py), resolved on assembly
LINK_SCHEMES = ("http", "https", "mailto", "tel", XREF_SCHEME)


def _neutralise(document: Any) -> None:
    """What a part may not carry, whatever its HTML says (a project's template included):
    embedded files (`<link rel=attachment>`, `<a rel=attachment>`), and live links that are
    not web, mail or phone links (`javascript:`, `file:`, a relative link resolved to a path
    on the builder's disk). The text of a dropped link is still printed."""
    document.metadata.attachments = []
    for page in document.pages:
        page.links = [
            link for link in page.links
            if link[0] == "internal" or (link[0] == "external" and _live_link(str(link[1])))
        ]


def _live_link(url: str) -> bool:
    scheme = url.split(":", 1)[0].strip().lower() if ":" in url else ""
    return scheme in LINK_SCHEMES


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _collect_weasyprint_warnings() -> Iterator[_Collector]:
    collector = _Collector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)


class _FontConfigurations(threading.local):
    by_project: dict[Path, Any]

    def __init__(self) -> None:
        self.by_project = {}


_FONTS = _FontConfigurations()
#: every FontConfiguration made, in any thread, for `remove_font_folders`
_ALL_FONTS: weakref.WeakSet[Any] = weakref.WeakSet()
_ALL_FONTS_LOCK = threading.Lock()


def font_configuration(project: Path) -> Any:
    """One WeasyPrint FontConfiguration per project and thread, kept for the process: its
    Pango font map and caches are what makes a second part (and a rebuild) cheap. Per
    project, so one project's @font-face fonts never reach another's; per thread, as Pango's
    objects are not shared between threads."""
    load_weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    key = project.resolve()
    found = _FONTS.by_project.get(key)
    if found is None:
        found = _FONTS.by_project[key] = FontConfiguration()
        with _ALL_FONTS_LOCK:
            if not _ALL_FONTS:
                _remove_font_folders_at_exit()
            _ALL_FONTS.add(found)
    return found


def remove_font_folders() -> None:
    """Remove the temporary folders WeasyPrint copied a project's @font-face fonts into.

    A FontConfiguration removes its folder when it is deleted, but the ones kept for the
    process (above) live until the interpreter's teardown, when `shutil` is already gone
    ("Exception ignored in FontConfiguration.__del__", the folder left behind), or past it:
    the CLI ends with `os._exit`, which deletes nothing. So the CLI calls this before it
    exits, and any other process at its exit."""
    import shutil

    with _ALL_FONTS_LOCK:
        configurations = list(_ALL_FONTS)
        _ALL_FONTS.clear()
    for configuration in configurations:
        folder = getattr(configuration, "_folder", None)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
            configuration._folder = None


def _remove_font_folders_at_exit() -> None:
    """At this process's exit: atexit, and in a pool's worker (which ends with `os._exit`
    once multiprocessing's own exit handlers ran) one of those. Twice is harmless."""
    atexit.register(remove_font_folders)
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None and multiprocessing.parent_process() is not None:
        from multiprocessing import util

        util.Finalize(None, remove_font_folders, exitpriority=10)


#: parts laid out earlier in this process, for warm rebuilds (`reuse=True`): by a digest of
#: everything the layout reads, with the state of each file it fetched
_LAID_OUT: OrderedDict[str, tuple[RenderedPart, tuple[tuple[str, tuple[int, int] | None], ...]]]
_LAID_OUT = OrderedDict()
_LAID_OUT_MAX = 64
_LAID_OUT_LOCK = threading.Lock()
#: each part's anchors' page counters as its last layout left them, for warm rebuilds: by
#: the part's name, document and project, whatever its HTML now
_PAGES_LAID_OUT: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()


def _file_state(url: str) -> tuple[int, int] | None:
    try:
        found = Path(unquote(urlsplit(url).path)).stat()
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size


def render_pdf(html: str, *, name: str, base: Path, project: Path, shown: str,
               tagged: bool = False, reuse: bool = False) -> RenderedPart:
    """Lay out and write one part; WeasyPrint is imported here so `check` never pays for it.

    `tagged` writes a structure tree (PDF/UA). Running headers and footers stamped onto
    tagged pages are marked as artifacts by the assembler (assemble/tags.py).

    `reuse` (a warm rebuild in a running process: the preview): a part whose HTML, folders
    and fetched files (images, fonts: same modification time and size) are unchanged since it
    was last laid out is returned as it was, warnings included, without any layout; one that
    changed is laid out with the pages its anchors had last time as a guess (targets.py:
    pages with page references are then laid out once, not twice, where the guess holds)."""
    key = hashlib.sha256("\0".join(
        (html, name, str(base.resolve()), str(project.resolve()), shown, str(tagged))
    ).encode("utf-8", "surrogatepass")).hexdigest()
    if reuse:
        with _LAID_OUT_LOCK:
            found = _LAID_OUT.get(key)
        if found is not None and all(_file_state(url) == state for url, state in found[1]):
            LOG.info("%s: %s unchanged, not laid out again", shown, name)
            return found[0]
    fetched: list[str] = []
    if not reuse:
        return _render_pdf(html, name=name, base=base, project=project, shown=shown,
                           tagged=tagged, fetched=fetched)
    from briefing.render.targets import guessed_pages

    same_part = (name, shown, str(project.resolve()))
    with guessed_pages(_PAGES_LAID_OUT.get(same_part)) as laid_out:
        part = _render_pdf(html, name=name, base=base, project=project, shown=shown,
                           tagged=tagged, fetched=fetched)
    states = tuple((url, _file_state(url)) for url in dict.fromkeys(fetched)
                   if url.startswith("file:"))
    with _LAID_OUT_LOCK:
        _remember(_LAID_OUT, key, (part, states))
        _remember(_PAGES_LAID_OUT, same_part, laid_out)
    return part


def _remember(found: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    found[key] = value
    found.move_to_end(key)
    while len(found) > _LAID_OUT_MAX:
        found.popitem(last=False)


def _render_pdf(html: str, *, name: str, base: Path, project: Path, shown: str,
                tagged: bool, fetched: list[str]) -> RenderedPart:
    from briefing.render.actual_text import install_actual_text
    from briefing.render.drawn_streams import install_drawn_streams
    from briefing.render.parsed_css import install_parsed_css
    from briefing.render.pseudo_styles import install_pseudo_styles
    from briefing.render.released_pages import install_released_pages, release_pages
    from briefing.render.shared_styles import install_shared_styles
    from briefing.render.targets import install_target_counters
    from briefing.render.tounicode import install_unicode_fallback, layout_hyphens_soft

    weasyprint = load_weasyprint()  # its libraries opened by soname (libraries.py)
    install_actual_text()  # extracted Khmer text equals the source (see source/khmer.py)
    install_target_counters()  # page references: linear, no needless page layouts
    install_parsed_css()  # each stylesheet's text parsed once per process (parsed_css.py)
    install_pseudo_styles()  # six pseudo-elements' styles made only when asked for
    install_shared_styles()  # equivalent elements given one style (shared_styles.py)
    install_released_pages()  # a page laid out again freed at once (released_pages.py)
    install_drawn_streams()  # a drawn page's stream compressed at once (drawn_streams.py)
    install_unicode_fallback()  # every glyph drawn has a Unicode value (PDF/UA)
    install_layout_checks()  # the time limit stops a layout on any thread (timelimit.py)
    html = zero_width_breaks(html)
    LOG.info("%s: rendering %s", shown, name)
    fetcher = project_fetcher(project)
    served = fetcher.fetch

    def fetch(url: str, headers: Any = None) -> Any:  # what the layout read, for `reuse`
        fetched.append(url)
        return served(url, headers)

    fetcher.fetch = fetch  # on the instance: WeasyPrint needs the fetcher object itself

    limit = time_limit_for(len(html))
    try:
        with _collect_weasyprint_warnings() as collector, time_limit(limit):
            source = weasyprint.HTML(
                string=html, base_url=base.resolve().as_uri() + "/", url_fetcher=fetcher
            )
            document = source.render(font_config=font_configuration(project))
            _neutralise(document)
            with layout_hyphens_soft(html):
                pdf = document.write_pdf(pdf_tags=tagged, attachments=None)
    except TimeLimitExceeded:
        raise BriefingError.at(shown, None, (
            f"{name}: laying out took longer than {limit or 0:.0f} s and was stopped; look "
            f"for a very large table, or extreme sizes in the project's styles/ and "
            f"templates/ (the limit is set with {TIME_LIMIT_ENV}=seconds)")) from None
    except BriefingError:
        raise
    except Exception as exc:
        LOG.debug("%s: WeasyPrint failed on the %s", shown, name, exc_info=True)
        raise BriefingError.at(shown, None, (
            f"{name}: could not be laid out ({type(exc).__name__}: {exc}); look for extreme "
            f"sizes in the project's styles/ and templates/")) from exc
    if fetcher.refused:
        raise BriefingError(Problem(shown, None, f"{name}: {message}")
                            for message in dict.fromkeys(fetcher.refused))
    link_texts: tuple[tuple[str, ...], ...] = ()
    if tagged:
        link_texts = texts_of_links(source.etree_element, document.pages)
    sizes = tuple((p.width * PX_TO_PT, p.height * PX_TO_PT) for p in document.pages)
    anchors: dict[str, Anchor] = {}
    for index, page in enumerate(document.pages):
        height = page.height * PX_TO_PT
        for anchor, (x, y, *_) in page.anchors.items():
            anchors.setdefault(anchor, Anchor(index, x * PX_TO_PT, height - y * PX_TO_PT))
    warnings = tuple(
        Problem(shown, None, f"{name}: {message}", "warning") for message in collector.messages
    )
    release_pages(document)  # its boxes freed when it goes, not at the next full collection
    return RenderedPart(name=name, pdf=pdf, page_sizes=sizes, anchors=anchors, warnings=warnings,
                        link_texts=link_texts)


def texts_of_links(root: Any, pages: Sequence[Any]) -> tuple[tuple[str, ...], ...]:
    """The text of each page's link annotations, in the order WeasyPrint writes them.

    WeasyPrint gives a tagged link annotation its target (`#fn-3`, a URL) as /Contents, which a
    screen reader reads out; the link's own words are what it should read. The annotations of
    a page are its `links` that are internal (to an anchor that exists) or external, in order
    (weasyprint/pdf/anchors.py); each is given the text of its <a> element, or its aria-label.
    """
    parents = {child: parent for parent in root.iter() for child in parent}
    anchors = {name for page in pages for name in page.anchors}
    texts: list[tuple[str, ...]] = []
    for page in pages:
        own: list[str] = []
        for kind, target, _, box in page.links:
            if kind == "internal" and target not in anchors:
                continue
            if kind in ("internal", "external"):
                own.append(_link_text(getattr(box, "element", None), parents) or str(target))
        texts.append(tuple(own))
    return tuple(texts)


def _link_text(element: Any, parents: dict[Any, Any]) -> str:
    while element is not None and str(element.tag).rsplit("}", 1)[-1] != "a":
        element = parents.get(element)
    if element is None:
        return ""
    label = " ".join(str(element.get("aria-label") or "").split())
    return label or " ".join("".join(element.itertext()).replace(ZWSP, "").split())
