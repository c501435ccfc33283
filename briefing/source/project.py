"""The project file, `briefing.toml` at the project root: build defaults, brand kit, strings.

Set once, it saves typing the same options on every build and carries the organisation's look
(colours, fonts, logo, name) into every built-in stylesheet and cover. Command-line options
override it. It is data like the content: validated with `briefing.toml:LINE: message` errors,
every problem at once, an unknown key named with the key it most likely meant.

    [build]                 # defaults of `briefing build` (and `preview`)
    profile = "print"
    [brand]                 # CSS custom properties and the covers' logo and organisation
    primary = "#0b5c8a"
    [strings.km]            # words of the templates, per language (render/strings.py)
    contents = "មាតិកា"
    [mail]                  # `briefing send` (validated in briefing/send/)
"""

from __future__ import annotations

import base64
import difflib
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefing.errors import BriefingError, Problem, printable

PROJECT_FILE = "briefing.toml"
PROFILE_NAMES = ("screen", "email", "print", "booklet", "handout")
PAPERS = ("a4", "letter", "a5")
NOTES_PLACES = ("end", "page")
HANDOUT_LAYOUTS = {"2-up": 2, "4-up": 4}
#: logos a cover can show, and their media types (read into a `data:` URL, see Brand.logo)
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
              ".jpeg": "image/jpeg"}
MAX_LOGO_BYTES = 2 * 1024 * 1024

#: CSS custom properties the built-in stylesheets use (declared on :root in styles/base.css)
COLOUR_PROPERTIES = {"primary": "--brand-primary", "accent": "--brand-accent",
                     "text": "--brand-text"}
FONT_PROPERTIES = {"font_body": "--font-body", "font_heading": "--font-heading"}
#: what follows a brand font in its stack, so Khmer and other scripts never fall back to boxes
FONT_FALLBACKS = {
    "font_body": '"Noto Serif", "Noto Serif Khmer", "DejaVu Serif", serif',
    "font_heading": '"Noto Sans", "Noto Sans Khmer", "DejaVu Sans", sans-serif',
}

_BUILD_KEYS = ("profile", "paper", "out", "jobs", "strict", "notes", "pdf_a", "pdf_ua",
               "handout", "email_budget")
_BRAND_KEYS = ("primary", "accent", "text", "font_body", "font_heading", "logo",
               "organisation")
_TABLES = ("build", "brand", "strings", "mail")

#: a colour CSS reads as one value and nothing more: #hex, a name, or rgb()/hsl() of numbers
_COLOUR = re.compile(
    r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|[a-zA-Z]{3,30}"
    r"|(?:rgb|rgba|hsl|hsla)\(\s*[0-9.,%\s/deg]+\)"
)
#: a font family name: letters (any script), digits, spaces, hyphens; quoted when written out
_FONT = re.compile(r"[^\W_](?:[\w \-]{0,60}[^\W_])?")


@dataclass(frozen=True)
class Brand:
    """The organisation's look. `logo` is a `data:` URL, so it works in the PDF covers and in
    the self-contained web page alike, and nothing outside the project is ever read."""

    primary: str | None = None
    accent: str | None = None
    text: str | None = None
    font_body: tuple[str, ...] = ()
    font_heading: tuple[str, ...] = ()
    logo: str | None = None
    #: the logo's path as written in the project file (for messages and the preview's cache)
    logo_path: str | None = None
    organisation: str | None = None

    def css(self) -> str:
        """A `:root { --brand-primary: ...; }` sheet, appended after the theme's stylesheets;
        empty when the project sets no colour or font."""
        declarations = [f"  {prop}: {getattr(self, key)};"
                        for key, prop in COLOUR_PROPERTIES.items() if getattr(self, key)]
        for key, prop in FONT_PROPERTIES.items():
            names: tuple[str, ...] = getattr(self, key)
            if names:
                stack = ", ".join(f'"{name}"' for name in names)
                declarations.append(f"  {prop}: {stack}, {FONT_FALLBACKS[key]};")
        if not declarations:
            return ""
        return ":root {\n" + "\n".join(declarations) + "\n}"


@dataclass(frozen=True)
class BuildDefaults:
    """Defaults of the build options; None where the project file says nothing (the command's
    own default applies)."""

    profile: str | None = None
    paper: str | None = None
    out: Path | None = None
    jobs: int | None = None
    strict: bool | None = None
    notes: str | None = None
    pdf_a: bool | None = None
    pdf_ua: bool | None = None
    handout: int | None = None
    #: bytes
    email_budget: int | None = None


@dataclass(frozen=True)
class ProjectSettings:
    path: Path | None = None
    build: BuildDefaults = field(default_factory=BuildDefaults)
    brand: Brand = field(default_factory=Brand)
    #: language -> template word -> the project's own wording (render/strings.py applies them)
    strings: Mapping[str, Mapping[str, str]] = field(default_factory=dict, hash=False)
    #: the `[mail]` table as read; briefing/send/ validates it
    mail: Mapping[str, Any] = field(default_factory=dict, hash=False)
    #: the file's bytes, part of what the preview's cache is keyed on
    source: bytes = b""


class _Lines:
    """Where each key is written. tomllib keeps no positions, so the file is scanned: a table
    header sets the current table, `key =` lines are keys in it."""

    _HEADER = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
    _KEY = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.\- ]+?)\s*=""")

    def __init__(self, text: str):
        self.keys: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), 1):
            header = self._HEADER.match(line)
            if header:
                table = self._split(header.group(1))
                self.keys.setdefault(table, number)
                continue
            key = self._KEY.match(line)
            if key:
                self.keys.setdefault((*table, *self._split(key.group(1))), number)

    @staticmethod
    def _split(dotted: str) -> tuple[str, ...]:
        return tuple(part.strip().strip("\"'") for part in dotted.split("."))

    def of(self, *key: str) -> int | None:
        while key:
            if key in self.keys:
                return self.keys[key]
            key = key[:-1]
        return None


class _Checker:
    def __init__(self, shown: str, lines: _Lines):
        self.shown = shown
        self.lines = lines
        self.problems: list[Problem] = []

    def error(self, key: tuple[str, ...], message: str) -> None:
        self.problems.append(Problem(self.shown, self.lines.of(*key), message))

    def known(self, table: Mapping[str, Any], where: tuple[str, ...],
              keys: tuple[str, ...]) -> None:
        for key in table:
            if key not in keys:
                self.error((*where, key), unknown_key(key, keys, ".".join(where)))

    def choice(self, value: Any, key: tuple[str, ...], choices: tuple[str, ...]) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or value.lower() not in choices:
            self.error(key, f"`{'.'.join(key)}` must be one of {', '.join(choices)}, "
                       f"not {_shown(value)}")
            return None
        return value.lower()

    def flag(self, value: Any, key: tuple[str, ...]) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        self.error(key, f"`{'.'.join(key)}` must be true or false, not {_shown(value)}")
        return None

    def text(self, value: Any, key: tuple[str, ...]) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(key, f"`{'.'.join(key)}` must be a text, not {_shown(value)}")
            return None
        return value.strip()


def unknown_key(key: str, known: tuple[str, ...], table: str) -> str:
    where = f"in [{table}]" if table else "at the top of the file"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(known)}"
    return f"unknown key `{printable(key)}` {where}; {hint}"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"`{printable(value)}`"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return printable(str(value))


#: the project file's size (a few hundred bytes in practice)
MAX_PROJECT_FILE_BYTES = 1024 * 1024


def project_file(project: Path) -> Path:
    return project / PROJECT_FILE


def load_project(project: Path, shown: str | None = None) -> ProjectSettings:
    """The project's settings; the defaults when it has no project file. Every problem of the
    file is raised at once (BriefingError)."""
    path = project_file(project)
    shown = shown or PROJECT_FILE
    from briefing.source.files import Refused, read_inside

    try:  # inside the project (not a link out of it), regular, bounded, never blocking
        source = read_inside(path, project, limit=MAX_PROJECT_FILE_BYTES, shown=shown)
    except FileNotFoundError:
        return ProjectSettings()
    except Refused as exc:
        raise BriefingError.at(shown, None, f"refused to read: {exc.reason}") from None
    except OSError as exc:
        raise BriefingError.at(shown, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = source[: exc.start].count(b"\n") + 1
        raise BriefingError.at(shown, line, "not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        at = int(found.group(1)) if found else None
        message = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", message)
        raise BriefingError.at(shown, at, f"not valid TOML: {message}") from None
    return validate_project(data, text, project, shown, path=path, source=source)


def validate_project(data: Mapping[str, Any], text: str, project: Path, shown: str, *,
                     path: Path | None = None, source: bytes = b"") -> ProjectSettings:
    check = _Checker(shown, _Lines(text))
    check.known(data, (), _TABLES)
    tables: dict[str, Mapping[str, Any]] = {}
    for name in _TABLES:
        value = data.get(name, {})
        if not isinstance(value, Mapping):
            check.error((name,), f"`{name}` must be a table ([{name}])")
            value = {}
        tables[name] = value
    build = _build(check, tables["build"])
    brand = _brand(check, tables["brand"], project)
    strings = _strings(check, tables["strings"])
    if check.problems:
        raise BriefingError(sorted(check.problems, key=lambda p: p.line or 0))
    return ProjectSettings(path=path, build=build, brand=brand, strings=strings,
                           mail=tables["mail"], source=source)


def _build(check: _Checker, table: Mapping[str, Any]) -> BuildDefaults:
    check.known(table, ("build",), _BUILD_KEYS)

    def key(name: str) -> tuple[str, ...]:
        return ("build", name)

    jobs: Any = table.get("jobs")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        check.error(key("jobs"), f"`build.jobs` must be a whole number of 1 or more, "
                    f"not {_shown(jobs)}")
        jobs = None
    budget = table.get("email_budget")
    budget_bytes = None
    if budget is not None:
        if isinstance(budget, bool) or not isinstance(budget, int | float) or budget <= 0:
            check.error(key("email_budget"), "`build.email_budget` must be a size in MB "
                        f"(a number above 0), not {_shown(budget)}")
        else:
            budget_bytes = int(budget * 1024 * 1024)
    handout = check.choice(table.get("handout"), key("handout"), tuple(HANDOUT_LAYOUTS))
    out = check.text(table.get("out"), key("out"))
    return BuildDefaults(
        profile=check.choice(table.get("profile"), key("profile"), PROFILE_NAMES),
        paper=check.choice(table.get("paper"), key("paper"), PAPERS),
        out=Path(out) if out else None,
        jobs=jobs,
        strict=check.flag(table.get("strict"), key("strict")),
        notes=check.choice(table.get("notes"), key("notes"), NOTES_PLACES),
        pdf_a=check.flag(table.get("pdf_a"), key("pdf_a")),
        pdf_ua=check.flag(table.get("pdf_ua"), key("pdf_ua")),
        handout=HANDOUT_LAYOUTS[handout] if handout else None,
        email_budget=budget_bytes,
    )


def _brand(check: _Checker, table: Mapping[str, Any], project: Path) -> Brand:
    check.known(table, ("brand",), _BRAND_KEYS)
    colours: dict[str, str | None] = {}
    for name in COLOUR_PROPERTIES:
        value = table.get(name)
        if value is not None and (not isinstance(value, str)
                                  or not _COLOUR.fullmatch(value.strip())):
            check.error(("brand", name), f"`brand.{name}` must be a CSS colour such as "
                        f"\"#0b5c8a\", a colour name or rgb(...), not {_shown(value)}")
            value = None
        colours[name] = value.strip() if isinstance(value, str) else None
    fonts: dict[str, tuple[str, ...]] = {}
    for name in FONT_PROPERTIES:
        value = table.get(name)
        names = [value] if isinstance(value, str) else value
        if value is None:
            fonts[name] = ()
        elif not isinstance(names, list) or not names or not all(
                isinstance(n, str) and _FONT.fullmatch(n.strip()) for n in names):
            check.error(("brand", name), f"`brand.{name}` must be a font family name, or a "
                        "list of them (letters, digits, spaces and hyphens), not "
                        f"{_shown(value)}")
            fonts[name] = ()
        else:
            fonts[name] = tuple(n.strip() for n in names)
    logo_path = check.text(table.get("logo"), ("brand", "logo"))
    logo = _logo(check, logo_path, project) if logo_path else None
    return Brand(primary=colours["primary"], accent=colours["accent"], text=colours["text"],
                 font_body=fonts["font_body"], font_heading=fonts["font_heading"], logo=logo,
                 logo_path=logo_path if logo else None,
                 organisation=check.text(table.get("organisation"), ("brand", "organisation")))


def _logo(check: _Checker, written: str, project: Path) -> str | None:
    """The logo as a `data:` URL. It must be a file inside the project, like every image."""
    key = ("brand", "logo")
    kind = LOGO_TYPES.get(Path(written).suffix.lower())
    if kind is None:
        check.error(key, f"`brand.logo` must be an SVG, PNG or JPEG file, not "
                    f"`{printable(written)}`")
        return None
    root = project.resolve()
    resolved = (project / written).resolve()
    if root not in resolved.parents:
        check.error(key, f"`brand.logo` must be a file inside the project, not "
                    f"`{printable(written)}`")
        return None
    if not resolved.is_file():
        check.error(key, f"`brand.logo`: no such file `{printable(written)}`")
        return None
    from briefing.source.files import Refused, read_inside

    try:
        data = read_inside(resolved, project, limit=MAX_LOGO_BYTES, shown=written)
    except (Refused, OSError) as exc:
        reason = exc.reason if isinstance(exc, Refused) else exc.strerror or str(exc)
        check.error(key, f"`brand.logo`: cannot use `{printable(written)}`: {reason}")
        return None
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def _strings(check: _Checker, table: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    strings: dict[str, dict[str, str]] = {}
    for lang, words in table.items():
        if not isinstance(words, Mapping):
            check.error(("strings", lang), f"`strings.{printable(lang)}` must be a table of "
                        f"word = \"text\" ([strings.{printable(lang)}])")
            continue
        for word, text in words.items():
            if not isinstance(text, str):
                check.error(("strings", lang, word), f"`strings.{printable(lang)}."
                            f"{printable(word)}` must be a text, not {_shown(text)}")
        strings[lang] = {w: t for w, t in words.items() if isinstance(t, str)}
    return strings


def unknown_words(settings: ProjectSettings, known: Collection[str],
                  shown: str = PROJECT_FILE) -> tuple[Problem, ...]:
    """Words in `[strings]` that no template uses (the theme's string table, `known`, lives
    in render/strings.py, which this stage does not import), with the likely word."""
    lines = _Lines(settings.source.decode("utf-8", "replace"))
    words = tuple(sorted(known))
    return tuple(
        Problem(shown, lines.of("strings", lang, word),
                unknown_key(word, words, f"strings.{printable(lang)}"))
        for lang, table in settings.strings.items() for word in table if word not in known)
