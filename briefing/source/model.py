"""Stage 2: the loaded tree becomes a validated Document, or every problem of the file at once."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefing.errors import BriefingError, Problem
from briefing.source.load import Loaded, Mapping, Scalar, Sequence, Value

#: Question ids become anchors (`#q-ID`, PDF destinations) and may name files: any character a
#: URL fragment carries without percent-escaping is fine (RFC 3986 `pchar`), except the ones a
#: file name cannot hold (`/`, and `:`, `*`, `?` on Windows). A leading `.` or `-` would make a
#: hidden file or an option, so an id starts with a letter, digit or `_`.
ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.~!$&'()+,;=@-]*$")
_ID_START = re.compile(r"^[A-Za-z0-9_]")
#: why a character cannot be in an id, for the message
_ID_REFUSED = {
    "/": "it separates folders in a file name",
    ":": "Windows file names cannot hold it",
    "*": "Windows file names cannot hold it",
    "?": "Windows file names cannot hold it",
    "\\": "it separates folders in a Windows file name",
    "#": "it starts the fragment of a URL",
    "%": "it starts an escape in a URL",
}
LANG_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True)
class Text:
    """A piece of Markdown with the line its first character is on."""

    source: str
    line: int


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answer: Text
    line: int


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: Text | None
    questions: tuple[Question, ...]
    line: int


@dataclass(frozen=True)
class Footnote:
    label: str
    text: Text


@dataclass(frozen=True)
class TranslationOf:
    """The original a translation pairs with, by question id: its file stem, next to this file."""

    name: str
    path: Path
    line: int


@dataclass(frozen=True, kw_only=True)
class FrontMatter:
    """What documents and packs both say about themselves: cover, running header, metadata."""

    title: str
    subtitle: str | None = None
    audience: str | None = None
    organisation: str | None = None
    date: dt.date | None = None
    classification: str | None = None
    lang: str = "en"
    version: str | None = None
    #: the organisation's logo on the cover: an image file inside the project
    logo: Path | None = None


@dataclass(frozen=True, kw_only=True)
class Document(FrontMatter):
    path: Path
    #: shown in messages: the path as the user gave it
    shown: str
    #: the output file stem
    name: str
    sections: tuple[Section, ...]
    footnotes: tuple[Footnote, ...] = ()
    cover: Path | None = None
    source: bytes = b""
    warnings: tuple[Problem, ...] = field(default=())
    #: the project folder: Markdown images must resolve inside it
    project: Path | None = None
    translation_of: TranslationOf | None = None
    #: where the notes are printed: `end` (the notes appendix) or `page` (at the foot of the
    #: page that calls them); the HTML page always lists them at the end
    notes: str = "end"
    #: `typeset` (default): typographic quotes, apostrophes and dashes in the Markdown text, as
    #: professional typesetting prints them; `typed`: every character exactly as typed
    typography: str = "typeset"

    @property
    def notes_on_page(self) -> bool:
        return self.notes == "page"

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for s in self.sections for q in s.questions)


def slugify(text: str) -> str:
    """A readable ASCII id for anchors and URLs, stable for the same text."""
    unquoted = re.sub(r"['’‘]", "", text)
    folded = unicodedata.normalize("NFKD", unquoted).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", folded.lower())
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > 60:
            break
        slug = f"{slug}-{word}" if slug else word
    return slug


class _Checker:
    """Collects problems so one run reports all of a file's mistakes."""

    def __init__(self, shown: str):
        self.shown = shown
        self.problems: list[Problem] = []

    def error(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.shown, line, message))

    def fields(
        self, node: Mapping, allowed: dict[str, bool], what: str
    ) -> dict[str, tuple[Scalar, Value]]:
        """Known keys of a mapping; unknown ones and missing required ones are reported."""
        found: dict[str, tuple[Scalar, Value]] = {}
        given = {key.text for key, _ in node.items}
        for key, value in node.items:
            if key.text not in allowed:
                hint = difflib.get_close_matches(key.text, list(allowed), n=1)
                suggestion = f"; did you mean `{hint[0]}`?" if hint else ""
                known = ", ".join(sorted(allowed))
                self.error(
                    key.line, f"unknown key `{key.text}` in {what}{suggestion} (known: {known})"
                )
                # Checked under the key it most likely means, so a misspelt `questoins` does
                # not hide the problems of every question inside it.
                if hint and hint[0] not in given and hint[0] not in found:
                    found[hint[0]] = (key, value)
                continue
            found[key.text] = (key, value)
        for name, required in allowed.items():
            if required and name not in found:
                self.error(node.line, f"{what} is missing the required `{name}`")
        return found

    def text(
        self, entry: tuple[Scalar, Value] | None, name: str, *, required: bool = False
    ) -> Scalar | None:
        if entry is None:
            return None
        key, value = entry
        if not isinstance(value, Scalar):
            kind = "a list" if isinstance(value, Sequence) else "a mapping"
            self.error(value.line, f"`{name}` must be text, not {kind}")
            return None
        if value.is_null or not value.text.strip():
            if required:
                self.error(key.line, f"`{name}` must not be empty")
            return None
        return value


#: What documents and packs both say about themselves: cover, running header, metadata.
FRONT_MATTER_KEYS = {
    "title": True,
    "subtitle": False,
    "audience": False,
    "organisation": False,
    "date": False,
    "classification": False,
    "lang": False,
    "version": False,
    "logo": False,
}
#: logo files WeasyPrint draws
LOGO_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg", ".webp", ".gif")


_DOCUMENT_KEYS = {
    **FRONT_MATTER_KEYS,
    "sections": True,
    "footnotes": False,
    "cover": False,
    "translation_of": False,
    "notes": False,
    "typography": False,
}
#: `typography:` values and what they mean
TYPOGRAPHY = {"typeset": "typographic quotes, apostrophes and dashes",
              "typed": "every character exactly as typed"}
#: `notes:` values and what they mean, for the message when the value is wrong
NOTES_PLACES = {"end": "a notes appendix", "page": "footnotes at the foot of each page"}
_SECTION_KEYS = {"title": True, "intro": False, "questions": True}
_QUESTION_KEYS = {"question": True, "answer": True, "id": False}


def validate(loaded: Loaded, project: Path, shown: str | None = None, *,
             notes: str = "end") -> Document:
    """Check a loaded file against content format version 1 and build its Document; `notes`
    is where the notes go when the file does not say (the project file's `build.notes`)."""
    shown = shown or str(loaded.path)
    check = _Checker(shown)
    root = loaded.root
    if not isinstance(root, Mapping):
        raise BriefingError.at(
            shown, root.line, "a document must be a mapping with `title` and `sections`"
        )
    top = check.fields(root, _DOCUMENT_KEYS, "the document")

    front = front_matter(check, top, loaded.path.parent, project)
    before_notes = len(check.problems)
    footnotes = _footnotes(check, top.get("footnotes"))
    notes_usable = len(check.problems) == before_notes
    sections = _sections(check, top.get("sections"))
    cover = _cover(check, check.text(top.get("cover"), "cover"), loaded.path, project)
    original = _translation_of(check, check.text(top.get("translation_of"), "translation_of"),
                               loaded.path, project)
    notes = _notes(check, check.text(top.get("notes"), "notes"), notes)
    typography = _typography(check, check.text(top.get("typography"), "typography"))

    def document() -> Document:
        return Document(
            path=loaded.path,
            shown=shown,
            name=loaded.path.stem,
            **{**front, "title": front.get("title") or ""},
            sections=sections,
            footnotes=footnotes,
            cover=cover,
            source=loaded.source,
            warnings=loaded.warnings,
            project=project,
            translation_of=original,
            notes=notes,
            typography=typography,
        )

    # Every field is read before deciding, so one run reports all of the file's problems.
    if check.problems:
        problems = sorted([*check.problems, *loaded.warnings], key=by_line)
        # What did validate, for the next stage to check too (prepare.py): a note called but
        # never defined is reported with the structural errors, unless the notes are broken.
        raise InvalidDocument(problems, document() if notes_usable else None)
    return document()


class InvalidDocument(BriefingError):
    """A document's problems, with the part of it that did validate (or None)."""

    def __init__(self, problems: list[Problem], partial: Document | None):
        super().__init__(problems)
        self.partial = partial


def front_matter(check: _Checker, top: dict[str, tuple[Scalar, Value]],
                 base: Path, project: Path) -> dict[str, Any]:
    """The front-matter fields of a document or pack, as keyword arguments of either; `base`
    is the folder of the file, which relative paths (`logo:`) start from."""

    def plain(name: str, required: bool = False) -> str | None:
        scalar = check.text(top.get(name), name, required=required)
        return " ".join(scalar.text.split()) if scalar else None

    lang = "en"
    lang_scalar = check.text(top.get("lang"), "lang")
    if lang_scalar:
        if LANG_RE.match(lang_scalar.text.strip()):
            lang = lang_scalar.text.strip()
        else:
            check.error(lang_scalar.line, f"`lang` must be a BCP 47 tag such as `en` or `km`, "
                        f"not `{lang_scalar.text}`")
    return {
        "title": plain("title", required=True) or "",
        "subtitle": plain("subtitle"),
        "audience": plain("audience"),
        "organisation": plain("organisation"),
        "date": _date(check, check.text(top.get("date"), "date")),
        "classification": plain("classification"),
        "lang": lang,
        "version": plain("version"),
        "logo": _logo(check, check.text(top.get("logo"), "logo"), base, project),
    }


def _typography(check: _Checker, scalar: Scalar | None) -> str:
    if scalar is None:
        return "typeset"
    value = scalar.text.strip()
    if value not in TYPOGRAPHY:
        choices = "; ".join(f"`{k}` ({v})" for k, v in TYPOGRAPHY.items())
        check.error(scalar.line, f"`typography` must be one of {choices}, not `{value}`")
        return "typeset"
    return value


def _logo(check: _Checker, scalar: Scalar | None, base: Path, project: Path) -> Path | None:
    if scalar is None:
        return None
    resolved = inside_project(scalar.text.strip(), base, project)
    if resolved is None:
        check.error(scalar.line, f"logo `{scalar.text}` must be a file inside the project")
    elif not resolved.is_file():
        check.error(scalar.line, f"logo `{scalar.text}` does not exist")
    elif resolved.suffix.lower() not in LOGO_SUFFIXES:
        check.error(scalar.line, f"logo `{scalar.text}` must be an image "
                    f"({', '.join(LOGO_SUFFIXES)})")
    else:
        return resolved
    return None


def by_line(problem: Problem) -> int:
    """Sort key: a file's problems in the order a person reads the file."""
    return problem.line or 0


def _date(check: _Checker, scalar: Scalar | None) -> dt.date | None:
    if scalar is None:
        return None
    try:
        # fromisoformat also takes `20250203` and week dates; the format promises YYYY-MM-DD.
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", scalar.text.strip()):
            raise ValueError(scalar.text)
        return dt.date.fromisoformat(scalar.text.strip())
    except ValueError:
        check.error(scalar.line, f"`date` must be a real date as YYYY-MM-DD, not `{scalar.text}`")
        return None


def _sequence(
    check: _Checker, entry: tuple[Scalar, Value] | None, name: str
) -> tuple[Value, ...]:
    if entry is None:
        return ()
    _key, value = entry
    if isinstance(value, Scalar) and value.is_null:
        return ()
    if not isinstance(value, Sequence):
        check.error(value.line, f"`{name}` must be a list (each item starting with `- `)")
        return ()
    return value.items


def _sections(check: _Checker, entry: tuple[Scalar, Value] | None) -> tuple[Section, ...]:
    items = _sequence(check, entry, "sections")
    if entry is not None and not items and _is_list_or_null(entry[1]):
        check.error(entry[0].line, "`sections` is empty: a document needs at least one question")
    sections: list[Section] = []
    ids: dict[str, int] = {}
    section_ids: set[str] = set()
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            check.error(item.line, "each section must be a mapping with `title` and `questions`")
            continue
        found = check.fields(item, _SECTION_KEYS, f"section {number}")
        title = check.text(found.get("title"), "title", required=True)
        intro = check.text(found.get("intro"), "intro")
        questions = _questions(check, found.get("questions"), ids)
        if "questions" in found and not questions and _is_list_or_null(found["questions"][1]) and (
            not _sequence(_Checker(check.shown), found.get("questions"), "questions")
        ):
            check.error(found["questions"][0].line, f"section {number} has no questions")
        section_id = _unique(f"s-{slugify(title.text) if title else number}", section_ids)
        sections.append(
            Section(
                id=section_id,
                title=" ".join(title.text.split()) if title else "",
                intro=Text(intro.text, intro.text_line) if intro else None,
                questions=questions,
                line=item.line,
            )
        )
    return tuple(sections)


def _is_list_or_null(value: Value) -> bool:
    """A wrong type is reported once, as a wrong type, not again as an empty list."""
    return isinstance(value, Sequence) or (isinstance(value, Scalar) and value.is_null)


def _unique(candidate: str, taken: set[str]) -> str:
    result, n = candidate, 2
    while result in taken:
        result, n = f"{candidate}-{n}", n + 1
    taken.add(result)
    return result


def _questions(
    check: _Checker, entry: tuple[Scalar, Value] | None, ids: dict[str, int]
) -> tuple[Question, ...]:
    questions: list[Question] = []
    pending: list[tuple[int, Scalar, Scalar, Scalar | None, int]] = []
    for item in _sequence(check, entry, "questions"):
        if not isinstance(item, Mapping):
            check.error(item.line, "each question must be a mapping with `question` and `answer`")
            continue
        found = check.fields(item, _QUESTION_KEYS, "a question")
        question = check.text(found.get("question"), "question", required=True)
        answer = check.text(found.get("answer"), "answer", required=True)
        explicit = check.text(found.get("id"), "id")
        if explicit is not None:
            refused = id_problem(explicit.text)
            if refused:
                check.error(explicit.line, refused)
            elif explicit.text in ids:
                check.error(
                    explicit.line,
                    f"duplicate question id `{explicit.text}` (first used on line "
                    f"{ids[explicit.text]})",
                )
            else:
                ids[explicit.text] = explicit.line
        if question and answer:
            pending.append((len(pending), question, answer, explicit, item.line))
    # Derived ids never take an explicit one, wherever in the document that one is.
    for _, question, answer, explicit, line in pending:
        if explicit is not None and ID_RE.match(explicit.text):
            qid = explicit.text
        else:
            qid = _derive(slugify(question.text) or "question", ids, line)
        questions.append(
            Question(
                id=qid,
                question=" ".join(question.text.split()),
                answer=Text(answer.text, answer.text_line),
                line=line,
            )
        )
    return tuple(questions)


def id_problem(candidate: str) -> str | None:
    """Why `candidate` cannot be a question id, naming the character; None when it can."""
    if ID_RE.match(candidate):
        return None
    visible = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in candidate)
    start = f"`id` `{visible}`"
    if not _ID_START.match(candidate):
        return (f"{start} must start with a letter, a digit or `_`, not "
                f"{_character(candidate[0])}")
    bad = next(c for c in candidate if not ID_RE.match(f"a{c}"))
    reason = _ID_REFUSED.get(bad) or (
        "a URL would have to escape it" if bad.isprintable() or bad == " " else "it is invisible")
    return (f"{start} cannot contain {_character(bad)}: {reason}; use letters, digits and "
            "`-_.~`")


def _character(char: str) -> str:
    """A character as a message shows it: itself in backticks, or its code and name."""
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    if char == " ":
        return "a space"
    if char.isprintable() and ord(char) < 0x80:
        return f"`{char}`"
    return f"{code} {name}".rstrip() if not char.isprintable() else f"`{char}` ({code} {name})"


def _derive(base: str, ids: dict[str, int], line: int) -> str:
    candidate, n = base, 2
    while candidate in ids:
        candidate, n = f"{base}-{n}", n + 1
    ids[candidate] = line
    return candidate


def _footnotes(check: _Checker, entry: tuple[Scalar, Value] | None) -> tuple[Footnote, ...]:
    if entry is None:
        return ()
    _key, value = entry
    if isinstance(value, Scalar) and value.is_null:
        return ()
    if not isinstance(value, Mapping):
        check.error(value.line, "`footnotes` must be a mapping of label: text")
        return ()
    notes = []
    for label, text in value.items:
        if not re.match(r"^[^\s\[\]^]+$", label.text):
            shown = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in label.text)
            check.error(label.line, f"footnote label `{shown}` must be one word")
            continue
        scalar = check.text((label, text), f"footnote {label.text}", required=True)
        if scalar:
            notes.append(Footnote(label.text, Text(scalar.text, scalar.text_line)))
    return tuple(notes)


def _notes(check: _Checker, scalar: Scalar | None, default: str = "end") -> str:
    if scalar is None:
        return default
    value = scalar.text.strip()
    if value not in NOTES_PLACES:
        choices = ", ".join(f"`{name}` ({meaning})" for name, meaning in NOTES_PLACES.items())
        check.error(scalar.line, f"`notes` must be {choices.replace(', ', ' or ', 1)}, "
                    f"not `{scalar.text}`")
    return value


def _cover(
    check: _Checker, scalar: Scalar | None, path: Path, project: Path
) -> Path | None:
    if scalar is None:
        return None
    resolved = inside_project(scalar.text.strip(), path.parent, project)
    if resolved is None:
        check.error(scalar.line, f"cover `{scalar.text}` must be a file inside the project")
        return None
    if not resolved.is_file():
        check.error(scalar.line, f"cover `{scalar.text}` does not exist")
        return None
    if resolved.suffix.lower() != ".pdf":
        check.error(scalar.line, f"cover `{scalar.text}` must be a PDF file")
        return None
    return resolved


def _translation_of(
    check: _Checker, scalar: Scalar | None, path: Path, project: Path
) -> TranslationOf | None:
    """`translation_of: NAME` names the original document, `NAME.yaml` in the same folder."""
    if scalar is None:
        return None
    name = scalar.text.strip().removesuffix(".yaml")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", name) or ".." in name:
        check.error(scalar.line, f"`translation_of` must name a document in the same folder, "
                    f"such as `cambodia-faq`, not `{scalar.text}`")
        return None
    original = inside_project(f"{name}.yaml", path.parent, project)
    if name == path.stem:
        check.error(scalar.line, "`translation_of` names this document itself")
        return None
    if original is None or not original.is_file():
        check.error(scalar.line, f"`translation_of`: there is no {name}.yaml next to this file")
        return None
    return TranslationOf(name, original, scalar.line)


def inside_project(reference: str, base: Path, project: Path) -> Path | None:
    """Resolve a relative reference, refusing absolute paths and anything outside the project."""
    if not reference or reference.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", reference):
        return None
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", reference):
        return None
    candidate = (base / reference).resolve()
    root = project.resolve()
    if candidate != root and root not in candidate.parents:
        return None
    return candidate

