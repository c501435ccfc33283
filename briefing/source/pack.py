"""Pack files: several documents and supplied PDFs in one briefing pack, optionally one copy per
recipient. This module validates a pack file into a `Pack`; `jobs/pack.py` renders it."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from briefing.errors import INVISIBLE_CONTROLS, BriefingError, Problem, shown_path
from briefing.source.load import Loaded, Mapping, Scalar, Sequence, load, read_content_file
from briefing.source.message import MessageTemplate, TemplateText, check_fields, read_body_file
from briefing.source.model import (
    FRONT_MATTER_KEYS,
    Document,
    FrontMatter,
    _Checker,
    front_matter,
    inside_project,
)


@dataclass(frozen=True)
class PackItem:
    """A FAQ document (`kind == "document"`) or a supplied PDF (`kind == "pdf"`)."""

    kind: str
    path: Path
    title: str | None
    line: int


@dataclass(frozen=True)
class Recipient:
    name: str
    organisation: str | None
    email: str | None
    #: every column or key of the recipients list, for templates that use extra fields
    fields: tuple[tuple[str, str], ...]
    line: int


@dataclass(frozen=True, kw_only=True)
class Pack(FrontMatter):
    path: Path
    shown: str
    name: str
    items: tuple[PackItem, ...]
    cover: Path | None = None
    notes_at_end: bool = False
    #: `notes: page`: True; `after-each` or `at-end`: False; no `notes:`: None, and each
    #: document's own `notes:` decides (see `notes_on_page`)
    notes_on_page: bool | None = None
    recipients: tuple[Recipient, ...] = ()
    recipients_path: Path | None = None
    personalise_footer: bool = False
    #: the e-mail each recipient gets with their copy (`briefing send`)
    message: MessageTemplate | None = None
    #: where `message:` is, for "this pack names no message" style errors
    message_line: int | None = None
    source: bytes = b""


_PACK_KEYS = {
    **FRONT_MATTER_KEYS,
    "cover": False, "notes": False, "items": True, "recipients": False,
    "personalise_footer": False, "message": False,
}
_MESSAGE_KEYS = {"subject": True, "body": False, "file": False}
_ITEM_KEYS = {"document": False, "pdf": False, "title": False}
#: `notes:` of a pack: whether the notes are gathered at the end of the pack (`page`: at the
#: foot of each page, so there are none to gather)
NOTES_CHOICES = {"after-each": False, "at-end": True, "page": False}


def is_pack(loaded: Loaded) -> bool:
    """A pack file is recognised by its `items` list."""
    root = loaded.root
    return isinstance(root, Mapping) and any(key.text == "items" for key, _ in root.items)


def validate_pack(loaded: Loaded, project: Path, shown: str) -> Pack:
    check = _Checker(shown)
    root = loaded.root
    if not isinstance(root, Mapping):
        raise BriefingError.at(
            shown, root.line, "a pack must be a mapping with `title` and `items`"
        )
    top = check.fields(root, _PACK_KEYS, "the pack")
    base = loaded.path.parent

    def path_of(scalar: Scalar | None, what: str, suffixes: tuple[str, ...]) -> Path | None:
        if scalar is None:
            return None
        resolved = inside_project(scalar.text.strip(), base, project)
        if resolved is None:
            check.error(scalar.line, f"{what} `{scalar.text}` must be a file inside the project")
        elif not resolved.is_file():
            check.error(scalar.line, f"{what} `{scalar.text}` does not exist")
        elif resolved.suffix.lower() not in suffixes:
            check.error(scalar.line, f"{what} `{scalar.text}` must be a {'/'.join(suffixes)} file")
        else:
            return resolved
        return None

    front = front_matter(check, top, base, project)
    notes_at_end = False
    notes_on_page: bool | None = None
    notes = check.text(top.get("notes"), "notes")
    if notes:
        if notes.text.strip() in NOTES_CHOICES:
            notes_at_end = NOTES_CHOICES[notes.text.strip()]
            notes_on_page = notes.text.strip() == "page"
        else:
            check.error(notes.line, f"`notes` must be one of {', '.join(NOTES_CHOICES)}, "
                        f"not `{notes.text}`")
    personalise = check.text(top.get("personalise_footer"), "personalise_footer")
    personalise_footer = False
    if personalise:
        value = personalise.text.strip().lower()
        if value not in ("true", "false"):
            check.error(personalise.line, "`personalise_footer` must be true or false")
        personalise_footer = value == "true"

    items: list[PackItem] = []
    entry = top.get("items")
    if entry is not None:
        node = entry[1]
        if not isinstance(node, Sequence) or not node.items:
            check.error(node.line, "`items` must be a non-empty list of documents and PDFs")
        else:
            for item in node.items:
                if not isinstance(item, Mapping):
                    check.error(item.line, "each item is a mapping with `document` or `pdf`")
                    continue
                found = check.fields(item, _ITEM_KEYS, "a pack item")
                document = check.text(found.get("document"), "document")
                pdf = check.text(found.get("pdf"), "pdf")
                item_title = check.text(found.get("title"), "title")
                if (document is None) == (pdf is None):
                    check.error(item.line, "a pack item names exactly one `document` or `pdf`")
                    continue
                if pdf is not None and item_title is None:
                    check.error(item.line, "a `pdf` item needs the `title` it has in the contents")
                path = (path_of(document, "document", (".yaml", ".yml")) if document
                        else path_of(pdf, "pdf", (".pdf",)))
                if path is not None:
                    items.append(PackItem(
                        kind="document" if document else "pdf",
                        path=path,
                        title=" ".join(item_title.text.split()) if item_title else None,
                        line=item.line,
                    ))

    cover = path_of(check.text(top.get("cover"), "cover"), "cover", (".pdf",))
    recipients_scalar = check.text(top.get("recipients"), "recipients")
    recipients_path = path_of(recipients_scalar, "recipients", (".csv", ".yaml", ".yml"))
    recipients: tuple[Recipient, ...] = ()
    if recipients_path is not None:
        try:
            recipients = read_recipients(recipients_path, shown_path(recipients_path))
        except BriefingError as error:
            check.problems.extend(error.problems)

    message: MessageTemplate | None = None
    message_entry = top.get("message")
    if message_entry is not None:
        message = _message(check, message_entry[1], base, project)
        if message is not None and recipients_path is None:
            check.error(message_entry[0].line, "a `message` needs `recipients` to send it to")
        elif message is not None and recipients:
            check.problems.extend(check_fields(
                message, [(r.line, dict(r.fields)) for r in recipients],
                shown_path(recipients_path) if recipients_path else ""))

    if check.problems:
        raise BriefingError(check.problems)
    return Pack(
        path=loaded.path, shown=shown, name=loaded.path.stem, **front,
        items=tuple(items), cover=cover, notes_at_end=notes_at_end,
        notes_on_page=notes_on_page,
        recipients=recipients, recipients_path=recipients_path,
        personalise_footer=personalise_footer, message=message,
        message_line=message_entry[0].line if message_entry else None, source=loaded.source,
    )


def _message(check: _Checker, node: object, base: Path, project: Path) -> MessageTemplate | None:
    """`message: {subject: ..., body: ...}`, or `file:` instead of `body:`: a Markdown file."""
    if not isinstance(node, Mapping):
        line = getattr(node, "line", None)
        check.error(line, "`message` is a mapping with `subject` and a `body` (or a `file`)")
        return None
    found = check.fields(node, _MESSAGE_KEYS, "the message")
    subject = check.text(found.get("subject"), "subject", required=True)
    body = check.text(found.get("body"), "body")
    file = check.text(found.get("file"), "file")
    if (body is None) == (file is None):
        check.error(node.line, "the message has exactly one of `body` (Markdown) or `file` "
                    "(a Markdown file)")
        return None
    if subject is None:
        return None
    if "\n" in subject.text.strip() or "\r" in subject.text.strip():
        check.error(subject.line, "the subject must be one line")
        return None
    body_text: TemplateText | None = None
    if body is not None:
        body_text = TemplateText(body.text, check.shown, body.text_line,
                                 line_exact=body.text_line != body.line)
    elif file is not None:
        resolved = inside_project(file.text.strip(), base, project)
        if resolved is None:
            check.error(file.line, f"message file `{file.text}` must be a file inside the project")
        elif not resolved.is_file():
            check.error(file.line, f"message file `{file.text}` does not exist")
        else:
            try:
                body_text = read_body_file(resolved, shown_path(resolved))
            except BriefingError as error:
                check.problems.extend(error.problems)
    if body_text is None:
        return None
    return MessageTemplate(
        subject=TemplateText(" ".join(subject.text.split()), check.shown, subject.line),
        body=body_text,
    )


def notes_on_page(pack: Pack, document: Document) -> bool:
    """Whether a document of the pack has its notes at the foot of its pages: the pack's own
    `notes:` wins when it is given, so a pack reads the same throughout; without it, each
    document's `notes:` decides."""
    if pack.notes_on_page is not None:
        return pack.notes_on_page
    return document.notes_on_page


#: characters a recipient field may not contain: C0 controls (a tab too: it is a formula
#: leader in spreadsheets and nobody's name), DEL, C1 controls, bidi embeddings, overrides and
#: isolates. They would reach manifest.csv and the PDF raw. Line breaks (LF, CR, U+2028/9)
#: are left to recipient_problems and check_fields, which say where a line break does harm.
_RECIPIENT_CONTROL = re.compile(
    "[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f"
    + "".join(sorted(INVISIBLE_CONTROLS - {"\u2028", "\u2029"})) + "]")


def recipients_dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """Commas, or what the file is separated by: spreadsheets in much of Europe save CSV with
    semicolons, and some exports use tabs. csv.Sniffer looks at the first lines, choosing
    among these three only; comma when it cannot tell."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def read_recipients(path: Path, shown: str) -> tuple[Recipient, ...]:
    """A CSV with a header row, or a YAML list of mappings; `name` is required.

    Each recipient's line is where the record starts (a quoted CSV field may span lines).
    Addresses are checked here, before anything is built or sent (see `recipient_problems`).
    """
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[Problem] = []
    if path.suffix.lower() == ".csv":
        try:
            text = read_content_file(path, shown, None).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BriefingError.at(shown, None, "recipients file is not UTF-8") from None
        reader = csv.DictReader(io.StringIO(text), dialect=recipients_dialect(text))
        start = 2
        try:
            for row in reader:
                rows.append((start, {(k or "").strip().lower(): (v or "").strip()
                                     for k, v in row.items() if k}))
                start = reader.line_num + 1
        except csv.Error as exc:  # a field over csv's limit (128 KB), a NUL byte...
            raise BriefingError.at(shown, start, f"not a readable CSV file: {exc}") from None
    else:
        root = load(path, shown).root
        if not isinstance(root, Sequence):
            raise BriefingError.at(shown, root.line, "recipients must be a list of mappings")
        for item in root.items:
            if not isinstance(item, Mapping) or not all(isinstance(v, Scalar)
                                                        for _, v in item.items):
                problems.append(Problem(shown, item.line, "each recipient is a mapping of text"))
                continue
            rows.append((item.line, {k.text.strip().lower(): v.text.strip()
                                     for k, v in item.items if isinstance(v, Scalar)}))
    recipients = []
    seen: dict[str, int] = {}
    for line, fields in rows:
        bad = [(key, char) for key, value in fields.items()
               if (char := _RECIPIENT_CONTROL.search(value))]
        if bad:
            key, char = bad[0]
            assert char is not None
            problems.append(Problem(shown, line, f"recipient field `{key}` contains the control "
                                    f"character U+{ord(char.group()):04X}; remove it"))
            continue
        found = recipient_problems(fields, shown, line, seen)
        if found:
            problems.extend(found)
            continue
        email = fields.get("email") or None
        recipients.append(Recipient(
            name=fields["name"], organisation=fields.get("organisation") or None,
            email=normal_address(email) if email else None,
            fields=tuple(sorted(fields.items())), line=line,
        ))
    if problems:
        raise BriefingError(problems)
    if not recipients:
        raise BriefingError.at(shown, None, "the recipients list is empty")
    return tuple(recipients)


#: every character that ends a line somewhere: in a name or address it would start a new
#: header of the e-mail (header injection)
LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def recipient_problems(fields: dict[str, str], shown: str, line: int,
                       seen: dict[str, int]) -> list[Problem]:
    """A recipient's name and address: present, one line each, a valid address, not one that
    an earlier recipient already has (`seen`: normalised address -> line, updated)."""
    problems: list[Problem] = []
    name = fields.get("name", "")
    if not name:
        problems.append(Problem(shown, line, "recipient has no `name`"))
    for key in ("name", "organisation", "email"):
        if LINE_BREAKS.intersection(fields.get(key, "")):
            problems.append(Problem(shown, line, f"the recipient's `{key}` carries a line "
                                    "break; a name or address must be one line"))
    email = fields.get("email", "")
    if email and not problems:
        from email_validator import EmailNotValidError, validate_email

        try:
            checked = validate_email(email, check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError as exc:
            problems.append(Problem(shown, line, f"`{email}` is not a valid e-mail address: "
                                    f"{exc}"))
        else:
            key = (checked.ascii_email or checked.normalized).lower()
            if key in seen:
                problems.append(Problem(shown, line, f"`{email}` is already the address of the "
                                        f"recipient on line {seen[key]}"))
            else:
                seen[key] = line
    return problems


def normal_address(email: str) -> str:
    """The address as it goes over SMTP: the domain in its ASCII (IDNA) form, so it needs no
    SMTPUTF8 support from the server. Only called on addresses `recipient_problems` accepted."""
    from email_validator import validate_email

    ascii_email = validate_email(email, check_deliverability=False,
                                 allow_smtputf8=False).ascii_email
    assert ascii_email is not None
    return ascii_email
