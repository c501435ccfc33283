"""Stage 3: the answers' Markdown is parsed and footnotes are numbered across the document.

Footnotes may be defined in the top-level `footnotes:` mapping or inline in an answer; either
way a note's number is the order of its first call in the whole document, so the notes appendix,
the calls and the HTML page all agree. Rendering to HTML happens later, with a `Linker` that
knows whether a target is in the same rendered part (a PDF part, or the one HTML page).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from briefing.errors import BriefingError, Problem
from briefing.source.model import Document, Text, by_line, inside_project

#: href for an anchor name: `#name` inside one rendered part, something else across parts
Linker = Callable[[str], str]

#: the scheme of cross-part references; the assembler turns them into PDF destinations
XREF_SCHEME = "x-briefing"
_BAD_SCHEMES = re.compile(r"^\s*(javascript|vbscript|file|data|x-briefing)\s*:", re.IGNORECASE)
#: Block quotes and lists inside each other. markdown-it silently drops everything below its
#: own `maxNesting` token level (one level per quote, two per list), so that is set well above
#: what this limit lets through, and deeper Markdown is refused with its line instead.
MAX_NESTING = 10
_MARKDOWN_IT_NESTING = 4 * MAX_NESTING + 20
_CONTAINERS = {"blockquote_open", "bullet_list_open", "ordered_list_open"}
#: images WeasyPrint draws; anything else would be left out of the PDF without a word
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")


def _validate_link(url: str) -> bool:
    """Links that could run code or read local files never become live links."""
    return not _BAD_SCHEMES.match(url)


def _parser(typographer: bool = False) -> MarkdownIt:
    """`typographer`: typographic quotes and apostrophes (markdown-it's smartquotes) and dashes
    (`--` en, `---` em) in the text; code and URLs keep what was typed. markdown-it's own
    `replacements` is not used: it also turns "(c)" into "©", which would change an answer's
    "(a), (b), (c)" (see docs/house-style.md)."""
    md = MarkdownIt("commonmark", {"html": False, "typographer": typographer, "linkify": False})
    md.enable(["table", "strikethrough"])
    if typographer:
        md.enable(["smartquotes"])
        md.core.ruler.after("smartquotes", "dashes", _dashes)
    md.use(footnote_plugin, always_match_refs=True)
    # Definitions are gathered per document here, not per answer, so the plugin's own
    # per-text collection (which drops definitions not called in the same text) is off.
    md.disable("footnote_tail")
    md.options["maxNesting"] = _MARKDOWN_IT_NESTING
    md.validateLink = _validate_link  # type: ignore[method-assign]
    md.add_render_rule("footnote_ref", _render_footnote_ref)
    return md


#: what Markdown would read as markup inside a line; quotes and dashes are left alone
_INLINE_MARKUP = re.compile(r"([\\`*_\[\]!<>&~|])")


def typeset_plain(text: str) -> str:
    """Plain text (a title, a question) with the quotes and dashes that `typography: typeset`
    gives the Markdown: the same markdown-it rules, run on the text with its markup escaped."""
    tokens = _MD_TYPESET.parseInline(_INLINE_MARKUP.sub(r"\\\1", text), {})
    return "".join(child.content for token in tokens for child in token.children or []
                   if child.type in ("text", "text_special"))


def typeset_titles(document: Document) -> Document:
    """The document's titles and questions typeset like its text (ids stay as they were)."""
    def plain(text: str | None) -> str | None:
        return typeset_plain(text) if text else text

    sections = tuple(
        replace(section, title=typeset_plain(section.title), questions=tuple(
            replace(q, question=typeset_plain(q.question)) for q in section.questions))
        for section in document.sections)
    return replace(document, title=typeset_plain(document.title),
                   subtitle=plain(document.subtitle), sections=sections)


_DASHES = re.compile(r"(?<!-)(---|--)(?!-)")


def _dashes(state: Any) -> None:
    """`---` becomes an em dash and `--` an en dash in text, never in code or link targets."""
    for token in state.tokens:
        if token.type != "inline":
            continue
        for child in token.children or []:
            if child.type == "text" and "--" in child.content:
                child.content = _DASHES.sub(
                    lambda m: "\u2014" if m.group(1) == "---" else "\u2013", child.content)


def _render_footnote_ref(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    meta = tokens[idx].meta
    if "number" not in meta:  # a call inside a note: printed as typed
        return escape(f"[^{meta.get('label') or ''}]")
    number = meta["number"]
    page_notes = env.get("page_notes")
    if page_notes is not None:
        return _page_note_call(page_notes[number], meta["call"], env)
    href = env["linker"](f"fn-{number}")
    return (
        f'<sup class="fnref"><a href="{escape(href)}" id="{meta["call"]}" '
        f'role="doc-noteref" aria-label="Note {number}">{number}</a></sup>'
    )


def _page_note_call(note: Note, call: str, env: dict[str, Any]) -> str:
    """A call of a note printed at the foot of the page (`notes: page`). The note's text comes
    right after its first call, and WeasyPrint's `float: footnote` (footnotes.css) moves it to
    the foot of the page that call is on; a later call shows the same number and links to it.
    Call and note are in the same part, so the links are plain fragments both ways."""
    number = note.number
    html = (f'<sup class="fnref"><a href="#{note.anchor}" id="{call}" role="doc-noteref" '
            f'aria-label="Note {number}">{number}</a></sup>')
    if call != note.calls[0]:
        return html
    return html + (
        f'<span class="footnote" id="{note.anchor}" role="doc-footnote">'
        f'<a class="note-number" href="#{call}" role="doc-backlink" '
        f'aria-label="Back to the call of note {number}">{number}</a>'
        f'{note.body.phrasing_html(env)}</span>'
    )


#: A note at the foot of the page sits inside the paragraph that calls it, and an HTML parser
#: closes that paragraph at a `<p>`, `<ul>`, `<table>`... So the note's blocks are written as
#: spans with a class naming the element (`fn-p`, `fn-ul`...), which footnotes.css displays as
#: blocks, lists and tables again.
_PHRASING_CLASSES = {
    "p": "fn-p", "blockquote": "fn-blockquote", "ul": "fn-ul", "ol": "fn-ol", "li": "fn-li",
    "table": "fn-table", "thead": "fn-thead", "tbody": "fn-tbody", "tr": "fn-tr",
    "th": "fn-th", "td": "fn-td",
    **{f"h{level}": "fn-h" for level in range(1, 7)},
}


def _phrasing(tokens: Sequence[Token]) -> list[Token]:
    """Block tokens of a note turned into phrasing content (see _PHRASING_CLASSES)."""
    phrasing: list[Token] = []
    for token in tokens:
        if token.type in ("code_block", "fence"):
            code = escape(token.content.rstrip("\n"))
            phrasing.append(_raw(f'<code class="fn-pre">{code}</code>'))
        elif token.type == "hr":
            phrasing.append(_raw('<span class="fn-hr"></span>'))
        elif token.block and token.tag in _PHRASING_CLASSES:
            attrs = dict(token.attrs)
            if token.nesting == 1:
                attrs["class"] = _PHRASING_CLASSES[token.tag]
                start = str(attrs.get("start", ""))
                if start.isdigit():  # `3. item`: an ordered list that does not start at 1
                    attrs["style"] = f"counter-reset: list-item {int(start) - 1}"
            # not a block any more: no line breaks between the spans, which WeasyPrint would
            # lay out as empty lines between list items
            phrasing.append(token.copy(tag="span", attrs=attrs, block=False))
        else:
            phrasing.append(token)
    return phrasing


def _raw(html: str) -> Token:
    """Markup briefing writes itself (raw HTML in content is never enabled)."""
    return Token("html_inline", "", 0, content=html)


_MD = _parser()
#: the parser of documents with `typography: typeset` (the default)
_MD_TYPESET = _parser(typographer=True)
#: the same grammar with every link destination allowed: only used to find images to check,
#: so `![](file:///etc/passwd)` is reported instead of quietly printed as text
_CHECK_MD = _parser()
_CHECK_MD.validateLink = lambda url: True  # type: ignore[method-assign]


@dataclass(frozen=True)
class Prose:
    """Parsed Markdown of one answer or intro, its footnote calls numbered."""

    tokens: tuple[Token, ...]

    def html(self, linker: Linker, page_notes: Mapping[int, Note] | None = None) -> str:
        """The HTML of the text. Calls link to the notes list, wherever `linker` says it is;
        with `page_notes` (the document's notes by number, for `notes: page`), each note's
        text is placed at its first call instead, to be printed at the foot of the page."""
        env = {"linker": linker, "page_notes": page_notes}
        return str(_MD.renderer.render(list(self.tokens), _MD.options, env))

    def phrasing_html(self, env: dict[str, Any]) -> str:
        """The HTML of a note to be placed inside a paragraph (see _phrasing)."""
        return str(_MD.renderer.render(_phrasing(self.tokens), _MD.options, env))


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


@dataclass(frozen=True)
class _Where:
    """Where the texts of one document are: for messages and for resolving images."""

    shown: str
    base: Path
    project: Path
    #: typographic quotes and dashes (`typography: typeset`)
    typeset: bool = False


def _inline(tokens: Sequence[Token], first_line: int) -> Iterator[tuple[Token, int]]:
    """Inline tokens of block-level tokens, each with its own line (line breaks counted)."""
    for token in tokens:
        if token.type != "inline":
            continue
        line = first_line + (token.map[0] if token.map else 0)
        for child in token.children or []:
            yield child, line
            if child.type in ("softbreak", "hardbreak"):
                line += 1


def _parse(text: Text, where: _Where, problems: list[Problem]) -> _Parsed:
    shown = where.shown
    env: dict[str, Any] = {}
    tokens = (_MD_TYPESET if where.typeset else _MD).parse(text.source, env)
    _check_nesting(tokens, text, shown, problems)
    _check_images(text, where, problems)
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
                    f"footnote [^{label}] is defined twice in this text (first on line "
                    f"{definitions[label][1]})",
                ))
            elif label is not None:
                definitions[label] = (inside, definition_line)
            label = None
        elif label is not None:
            inside.append(token)
        else:
            body.append(token)
    refs.extend((child, line) for child, line in _inline(body, text.line)
                if child.type == "footnote_ref")
    notes_list = env.get("footnotes", {}).get("list", {})
    inline_notes = {i: n["content"] for i, n in notes_list.items() if "content" in n}
    return _Parsed(text, body, definitions, refs, inline_notes)


def _check_nesting(tokens: list[Token], text: Text, shown: str, problems: list[Problem]) -> None:
    """Quotes and lists deeper than MAX_NESTING are an error, never text that disappears."""
    depth = 0
    for token in tokens:
        if token.type in _CONTAINERS:
            depth += 1
        elif token.type.replace("_close", "_open") in _CONTAINERS:
            depth -= 1
        # The second test is a safety net: markdown-it stops one level short of its limit.
        if depth > MAX_NESTING or token.level >= _MARKDOWN_IT_NESTING - 1:
            line = text.line + (token.map[0] if token.map else 0)
            problems.append(Problem(
                shown, line, f"Markdown quotes and lists are nested more than {MAX_NESTING} "
                "levels deep; flatten them",
            ))
            return


def _check_images(text: Text, where: _Where, problems: list[Problem]) -> None:
    """Every image must be a file inside the project: the builder reads nothing else."""
    if "![" not in text.source:
        return
    for token, line in _inline(_CHECK_MD.parse(text.source, {}), text.line):
        if token.type == "image":
            problem = image_problem(str(token.attrs.get("src", "")), where.base, where.project)
            if problem:
                problems.append(Problem(where.shown, line, problem))


def image_problem(src: str, base: Path, project: Path) -> str | None:
    """Why an image source cannot be used, or None when it is a file inside the project."""
    split = urlsplit(src)
    scheme = split.scheme.lower()
    if scheme in ("http", "https") or (not scheme and split.netloc):
        return (f"image `{src}` is on the network, and briefing never downloads anything: "
                "save the image in the project and give its relative path")
    if scheme:
        return (f"image `{src}`: `{scheme}:` addresses are not allowed; give the relative path "
                "of a file in the project")
    path = unquote(split.path)
    if not path:
        return "image has no file name"
    resolved = inside_project(path, base, project)
    if resolved is None:
        return (f"image `{src}` is outside the project; images must be files in the project "
                "folder, given by a relative path")
    if not resolved.is_file():
        shown = resolved.relative_to(project.resolve())
        return f"image `{src}` does not exist (looked for {shown})"
    if resolved.suffix.lower() not in IMAGE_SUFFIXES:
        return f"image `{src}` is not a {', '.join(s[1:] for s in IMAGE_SUFFIXES)} file"
    return None


def _calls_in_note(
    parsed: _Parsed, where: _Where, warnings: list[Problem], problems: list[Problem]
) -> None:
    for token, line in parsed.refs:
        _call_in_note(token, line, where, warnings, problems)


def _call_in_note(
    token: Token, line: int, where: _Where, warnings: list[Problem], problems: list[Problem]
) -> None:
    """Notes are not numbered inside notes: a labelled call prints as typed, an inline one
    would lose its text, so that one is an error."""
    if token.type != "footnote_ref":
        return
    label = token.meta.get("label")
    if label is None:
        problems.append(Problem(where.shown, line, "a footnote cannot contain an inline "
                                "footnote (`^[...]`); write the text into the note itself"))
    else:
        warnings.append(Problem(where.shown, line, f"footnote call [^{label}] inside a "
                                "footnote is printed as typed, not as a note", "warning"))


#: Where a note's definition lives: `None` for the top-level `footnotes:` mapping, otherwise the
#: position (in document order) of the answer or intro that defines it
Scope = int | None


def compose(document: Document) -> Composed:
    """Parse every answer and intro, then number the footnotes in order of first call.

    A definition written inside an answer (or intro) belongs to that text: its calls there
    refer to it, even when another answer defines the same label or the top-level `footnotes:`
    mapping does (which is then a warning naming both lines). Top-level labels are
    document-wide. Each definition is its own note, so two answers' `[^1]` are two notes.
    """
    problems: list[Problem] = []
    shown = document.shown
    base = document.path.parent
    where = _Where(shown, base, document.project or base, document.typography == "typeset")
    warnings = list(document.warnings)
    definitions: dict[tuple[Scope, str], tuple[Prose, int]] = {}
    for footnote in document.footnotes:
        parsed = _parse(footnote.text, where, problems)
        _calls_in_note(parsed, where, warnings, problems)
        definitions[None, footnote.label] = (Prose(tuple(parsed.tokens)), footnote.text.line)

    parsed_answers: dict[str, _Parsed] = {}
    parsed_intros: dict[str, _Parsed] = {}
    in_order: list[_Parsed] = []
    for section in document.sections:
        if section.intro:
            parsed_intros[section.id] = _parse(section.intro, where, problems)
            in_order.append(parsed_intros[section.id])
        for question in section.questions:
            parsed_answers[question.id] = _parse(question.answer, where, problems)
            in_order.append(parsed_answers[question.id])

    #: label -> line of each answer-local definition, for the message of a call elsewhere
    local_lines: dict[str, list[int]] = {}
    for scope, parsed in enumerate(in_order):
        for label, (tokens, line) in parsed.definitions.items():
            for child, call_line in _inline(tokens, parsed.text.line):
                _call_in_note(child, call_line, where, warnings, problems)
            if (None, label) in definitions:
                warnings.append(Problem(
                    shown, line, f"footnote [^{label}] defined in this text shadows the one in "
                    f"`footnotes:` (line {definitions[None, label][1]}); calls in this text "
                    "use this one", "warning",
                ))
            definitions[scope, label] = (Prose(tuple(tokens)), line)
            local_lines.setdefault(label, []).append(line)

    numbers: dict[tuple[Scope, str], int] = {}
    calls: dict[int, list[str]] = {}
    bodies: dict[int, tuple[str | None, Prose]] = {}
    for scope, parsed in enumerate(in_order):
        for token, line in parsed.refs:
            ref_label: str | None = token.meta.get("label")
            key: tuple[Scope, str] | None = None
            if ref_label is not None:
                key = (scope, ref_label) if (scope, ref_label) in definitions else (
                    None, ref_label)
            if ref_label is None:
                number = len(calls) + 1
                content = parsed.inline_notes.get(token.meta["id"], "")
                inner = _parse(Text(content, line), where, problems)
                _calls_in_note(inner, where, warnings, problems)
                bodies[number] = (None, Prose(tuple(inner.tokens)))
            elif key in numbers:
                number = numbers[key]
            elif key in definitions:
                number = numbers[key] = len(calls) + 1
                bodies[number] = (ref_label, definitions[key][0])
            else:
                problems.append(Problem(shown, line, _undefined(ref_label, local_lines)))
                continue
            call_list = calls.setdefault(number, [])
            call = f"fnref-{number}" if not call_list else f"fnref-{number}-{len(call_list) + 1}"
            call_list.append(call)
            token.meta["number"] = number
            token.meta["call"] = call

    for (scope_of, label), (_, line) in definitions.items():
        if (scope_of, label) not in numbers:
            warnings.append(Problem(
                shown, line, f"footnote [^{label}] is defined but never used", "warning"
            ))
    if any(p.is_error for p in problems):
        raise BriefingError(sorted([*problems, *warnings], key=by_line))
    warnings.extend(problems)
    warnings.sort(key=by_line)

    notes = tuple(
        Note(number=n, label=bodies[n][0], body=bodies[n][1], calls=tuple(calls[n]))
        for n in sorted(calls)
    )
    if document.typography == "typeset":
        document = typeset_titles(document)
    return Composed(
        document=document,
        answers={qid: Prose(tuple(p.tokens)) for qid, p in parsed_answers.items()},
        intros={sid: Prose(tuple(p.tokens)) for sid, p in parsed_intros.items()},
        notes=notes,
        warnings=tuple(warnings),
    )


def _undefined(label: str, local_lines: Mapping[str, list[int]]) -> str:
    """A call with no definition in its own text nor in `footnotes:`; when another answer
    defines the label, say so, since that definition belongs to that answer only."""
    message = f"footnote [^{label}] is never defined"
    elsewhere = local_lines.get(label)
    if elsewhere:
        if len(elsewhere) == 1:
            message += (f" in this text or in `footnotes:`; the definition on line "
                        f"{elsewhere[0]} belongs to its own answer: move it to `footnotes:` "
                        "to share it")
        else:
            lines = ", ".join(str(n) for n in elsewhere)
            message += (f" in this text or in `footnotes:`; the definitions on lines {lines} "
                        "belong to their own answers: move one to `footnotes:` to share it")
    return message
