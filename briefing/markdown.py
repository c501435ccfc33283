"""Stage 3: the answers' Markdown is parsed and footnotes are numbered across the document.

Footnotes may be defined in the top-level `footnotes:` mapping or inline in an answer; either
way a note's number is the order of its first call in the whole document, so the notes appendix,
the calls and the HTML page all agree. Rendering to HTML happens later, with a `Linker` that
knows whether a target is in the same rendered part (a PDF part, or the one HTML page).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from .errors import BriefingError, Problem
from .model import Document, Text

#: href for an anchor name: `#name` inside one rendered part, something else across parts
Linker = Callable[[str], str]

#: the scheme of cross-part references; the assembler turns them into PDF destinations
XREF_SCHEME = "x-briefing"
_BAD_SCHEMES = re.compile(r"^\s*(javascript|vbscript|file|data|x-briefing)\s*:", re.IGNORECASE)
#: markdown-it's own limit; deeper structures would be dropped silently, so they are refused
MAX_NESTING = 20


def _validate_link(url: str) -> bool:
    """Links that could run code or read local files never become live links."""
    return not _BAD_SCHEMES.match(url)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False, "linkify": False})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin, always_match_refs=True)
    # Definitions are gathered per document here, not per answer, so the plugin's own
    # per-text collection (which drops definitions not called in the same text) is off.
    md.disable("footnote_tail")
    md.options["maxNesting"] = MAX_NESTING + 10
    md.validateLink = _validate_link  # type: ignore[method-assign]
    md.add_render_rule("footnote_ref", _render_footnote_ref)
    return md


def _render_footnote_ref(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    meta = tokens[idx].meta
    if "number" not in meta:  # a call inside a note: printed as typed
        return escape(f"[^{meta.get('label') or ''}]")
    number = meta["number"]
    href = env["linker"](f"fn-{number}")
    return (
        f'<sup class="fnref"><a href="{escape(href)}" id="{meta["call"]}" '
        f'role="doc-noteref" aria-label="Note {number}">{number}</a></sup>'
    )


_MD = _parser()


@dataclass(frozen=True)
class Prose:
    """Parsed Markdown of one answer or intro, its footnote calls numbered."""

    tokens: tuple[Token, ...]

    def html(self, linker: Linker) -> str:
        return str(_MD.renderer.render(list(self.tokens), _MD.options, {"linker": linker}))


@dataclass(frozen=True)
class Note:
    number: int
    label: str | None
    body: Prose
    #: anchors of each call, in order; the first is where the back-link goes
    calls: tuple[str, ...]

    @property
    def anchor(self) -> str:
        return f"fn-{self.number}"


@dataclass(frozen=True)
class Composed:
    """A document with its Markdown parsed: what the templates render."""

    document: Document
    answers: dict[str, Prose]
    intros: dict[str, Prose]
    notes: tuple[Note, ...]
    warnings: tuple[Problem, ...]


@dataclass
class _Parsed:
    text: Text
    tokens: list[Token]
    definitions: dict[str, tuple[list[Token], int]]
    refs: list[tuple[Token, int]]
    inline_notes: dict[int, str]


def _parse(text: Text, shown: str, problems: list[Problem]) -> _Parsed:
    env: dict[str, Any] = {}
    tokens = _MD.parse(text.source, env)
    _check_nesting(tokens, text, shown, problems)
    body: list[Token] = []
    definitions: dict[str, tuple[list[Token], int]] = {}
    refs: list[tuple[Token, int]] = []
    label: str | None = None
    inside: list[Token] = []
    definition_line = text.line
    for token in tokens:
        if token.type == "footnote_reference_open":
            label, inside = token.meta["label"], []
            definition_line = text.line + (token.map[0] if token.map else 0)
        elif token.type == "footnote_reference_close":
            if label in definitions:
                problems.append(Problem(
                    shown, definition_line,
                    f"footnote [^{label}] is defined twice in this text",
                ))
            elif label is not None:
                definitions[label] = (inside, definition_line)
            label = None
        elif label is not None:
            inside.append(token)
        else:
            body.append(token)
            if token.type == "inline":
                line = text.line + (token.map[0] if token.map else 0)
                refs.extend((child, line) for child in token.children or []
                            if child.type == "footnote_ref")
    notes_list = env.get("footnotes", {}).get("list", {})
    inline_notes = {i: n["content"] for i, n in notes_list.items() if "content" in n}
    return _Parsed(text, body, definitions, refs, inline_notes)


def _check_nesting(tokens: list[Token], text: Text, shown: str, problems: list[Problem]) -> None:
    for token in tokens:
        if token.level > MAX_NESTING:
            line = text.line + (token.map[0] if token.map else 0)
            problems.append(
                Problem(shown, line, f"Markdown is nested more than {MAX_NESTING} levels deep")
            )
            return


def compose(document: Document) -> Composed:
    """Parse every answer and intro, then number the footnotes in order of first call."""
    problems: list[Problem] = []
    shown = document.shown
    definitions: dict[str, tuple[Prose, int]] = {}
    for footnote in document.footnotes:
        parsed = _parse(footnote.text, shown, problems)
        definitions[footnote.label] = (Prose(tuple(parsed.tokens)), footnote.text.line)

    parsed_answers: dict[str, _Parsed] = {}
    parsed_intros: dict[str, _Parsed] = {}
    in_order: list[_Parsed] = []
    for section in document.sections:
        if section.intro:
            parsed_intros[section.id] = _parse(section.intro, shown, problems)
            in_order.append(parsed_intros[section.id])
        for question in section.questions:
            parsed_answers[question.id] = _parse(question.answer, shown, problems)
            in_order.append(parsed_answers[question.id])

    for parsed in in_order:
        for label, (tokens, line) in parsed.definitions.items():
            if label in definitions:
                problems.append(Problem(
                    shown, line,
                    f"footnote [^{label}] is defined twice (first on line {definitions[label][1]})",
                ))
            else:
                definitions[label] = (Prose(tuple(tokens)), line)

    numbers: dict[str, int] = {}
    calls: dict[int, list[str]] = {}
    bodies: dict[int, tuple[str | None, Prose]] = {}
    for parsed in in_order:
        for token, line in parsed.refs:
            ref_label: str | None = token.meta.get("label")
            if ref_label is None:
                number = len(calls) + 1
                content = parsed.inline_notes.get(token.meta["id"], "")
                inner = _parse(Text(content, line), shown, problems)
                bodies[number] = (None, Prose(tuple(inner.tokens)))
            elif ref_label in numbers:
                number = numbers[ref_label]
            elif ref_label in definitions:
                number = numbers[ref_label] = len(calls) + 1
                bodies[number] = (ref_label, definitions[ref_label][0])
            else:
                problems.append(Problem(shown, line, f"footnote [^{ref_label}] is never defined"))
                continue
            call_list = calls.setdefault(number, [])
            call = f"fnref-{number}" if not call_list else f"fnref-{number}-{len(call_list) + 1}"
            call_list.append(call)
            token.meta["number"] = number
            token.meta["call"] = call

    warnings = list(document.warnings)
    for label, (_, line) in definitions.items():
        if label not in numbers:
            warnings.append(Problem(
                shown, line, f"footnote [^{label}] is defined but never used", "warning"
            ))
    if any(p.is_error for p in problems):
        raise BriefingError(problems)
    warnings.extend(problems)

    notes = tuple(
        Note(number=n, label=bodies[n][0], body=bodies[n][1], calls=tuple(calls[n]))
        for n in sorted(calls)
    )
    return Composed(
        document=document,
        answers={qid: Prose(tuple(p.tokens)) for qid, p in parsed_answers.items()},
        intros={sid: Prose(tuple(p.tokens)) for sid, p in parsed_intros.items()},
        notes=notes,
        warnings=tuple(warnings),
    )
