"""The e-mail message a pack names: a subject and a Markdown body with `{field}` placeholders.

Content is data: a placeholder is a recipient's field substituted as text, never an expression,
so a message can say `Dear {name}` and nothing more powerful. `{{` and `}}` are literal braces.
Every placeholder is checked against the recipients when the pack is validated, so a misspelt
field is an error naming the line of the pack file (or of the Markdown file) before anything
is built or sent. Rendering the message into an e-mail is `briefing/send/message.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from briefing.errors import BriefingError, Problem

#: `{{`, `}}`, a `{field}`, or a brace on its own (an error)
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]*)\}|[{}]")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_ -]*")


@dataclass(frozen=True)
class Placeholder:
    """One `{field}` of the subject or body, and where it is (for messages)."""

    field: str
    shown: str
    line: int


@dataclass(frozen=True)
class TemplateText:
    """A subject or a body: its text and where its first line is."""

    text: str
    shown: str
    line: int
    #: True when each line of `text` is a line of the file (a block scalar or a Markdown file),
    #: so a placeholder's line is `line` plus the newlines before it
    line_exact: bool = True

    def line_of(self, offset: int) -> int:
        return self.line + (self.text.count("\n", 0, offset) if self.line_exact else 0)


@dataclass(frozen=True)
class MessageTemplate:
    subject: TemplateText
    body: TemplateText

    @property
    def placeholders(self) -> tuple[Placeholder, ...]:
        return (*placeholders(self.subject), *placeholders(self.body))


def placeholders(template: TemplateText) -> tuple[Placeholder, ...]:
    """The fields a text uses; a lone brace or a malformed name raises BriefingError."""
    found: list[Placeholder] = []
    problems: list[Problem] = []
    for match in _TOKEN.finditer(template.text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        line = template.line_of(match.start())
        if match.group(1) is None:
            problems.append(Problem(template.shown, line, f"a lone `{token}`; write `{token * 2}` "
                                    "for a brace, or `{field}` for a recipient's field"))
            continue
        name = match.group(1).strip()
        if not _FIELD_NAME.fullmatch(name):
            problems.append(Problem(template.shown, line, f"`{token}` is not a field name; "
                                    "fields are columns of the recipients file, like `{name}`"))
            continue
        found.append(Placeholder(name.lower(), template.shown, line))
    if problems:
        raise BriefingError(problems)
    return tuple(found)


def check_fields(template: MessageTemplate, recipients: Iterable[tuple[int, dict[str, str]]],
                 recipients_shown: str) -> list[Problem]:
    """A placeholder that is not a field of every recipient is an error at its line."""
    rows = list(recipients)
    problems: list[Problem] = []
    try:
        used = template.placeholders
    except BriefingError as error:
        return list(error.problems)
    for placeholder in used:
        missing = [line for line, fields in rows if placeholder.field not in fields]
        if len(missing) == len(rows):
            known = sorted({key for _, fields in rows for key in fields})
            problems.append(Problem(
                placeholder.shown, placeholder.line,
                f"unknown field `{{{placeholder.field}}}`: the recipients in {recipients_shown} "
                f"have {', '.join(known)}"))
        elif missing:
            problems.append(Problem(
                placeholder.shown, placeholder.line,
                f"field `{{{placeholder.field}}}` is missing for the recipient on "
                f"{recipients_shown}:{missing[0]}" + (f" and {len(missing) - 1} more"
                                                      if len(missing) > 1 else "")))
    return problems


def fill(template: TemplateText, fields: dict[str, str],
         escape: Callable[[str], str] = lambda value: value) -> str:
    """The text with each `{field}` replaced by the recipient's value, passed through `escape`
    (for the HTML part: Markdown-escaped, so a value is never markup). Placeholders were
    checked when the pack was validated; a missing one here is a bug, so it raises KeyError."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return escape(fields[match.group(1).strip().lower()])

    return _TOKEN.sub(replace, template.text)


def read_body_file(path: Path, shown: str) -> TemplateText:
    from briefing.source.load import read_content_file

    try:
        text = read_content_file(path, shown, None).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BriefingError.at(shown, None, "the message file is not UTF-8") from None
    except OSError as exc:
        raise BriefingError.at(shown, None, f"cannot read: {exc.strerror or exc}") from None
    return TemplateText(text.replace("\r\n", "\n"), shown, 1)
