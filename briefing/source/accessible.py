"""What `--pdf-ua` asks of the content and of the build, before anything is rendered.

A tagged PDF is only as accessible as its content: an image needs alternative text a screen
reader can read out, and Markdown has a place for it (`![what it shows](file.png)`). Without
`--pdf-ua` an image without it is fine, as before; with it, it is an error at its line.

Imposition (booklet, handout) draws several pages onto one sheet as forms, and a structure tree
cannot follow content into forms placed out of reading order, so those profiles are refused
rather than produce a file that claims PDF/UA and is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from briefing.errors import BriefingError, Problem
from briefing.source.markdown import _CHECK_MD, Composed, _inline, compose
from briefing.source.model import Document, Text, by_line

#: profiles whose output cannot keep a structure tree honest
UNTAGGED_PROFILES = ("booklet", "handout")


def profile_problem(profile: str) -> str | None:
    """Why `--pdf-ua` cannot go with this profile, or None when it can."""
    if profile in UNTAGGED_PROFILES:
        return (f"--pdf-ua cannot be used with --profile {profile}: imposing pages onto sheets "
                "loses the reading order of the tags; use screen, email or print")
    return None


def check_profile(profile: str) -> None:
    problem = profile_problem(profile)
    if problem:
        raise BriefingError.at("--pdf-ua", None, problem)


def _texts(document: Document) -> Iterator[Text]:
    for section in document.sections:
        if section.intro is not None:
            yield section.intro
        for question in section.questions:
            yield question.answer
    for footnote in document.footnotes:
        yield footnote.text


def _images(tokens: list[Any], line: int) -> Iterator[tuple[Any, int]]:
    for token, at in _inline(tokens, line):
        if token.type == "image":
            yield token, at
        # images inside an image's description are part of its alternative text, not images


def missing_alt_text(document: Document) -> list[Problem]:
    """Every Markdown image without alternative text, at its line, inline notes included."""
    problems: list[Problem] = []
    for text in _texts(document):
        if "![" not in text.source:
            continue
        env: dict[str, Any] = {}
        tokens = _CHECK_MD.parse(text.source, env)
        found = list(_images(tokens, text.line))
        notes = env.get("footnotes", {}).get("list", {})
        for token, line in _inline(tokens, text.line):
            if token.type == "footnote_ref":  # an inline note's images, at the call's line
                inline = notes.get(token.meta.get("id"), {}).get("tokens") or []
                found += [(t, line) for t in inline if t.type == "image"]
        for token, line in found:
            if not token.content.strip():
                src = str(token.attrs.get("src", ""))
                problems.append(Problem(
                    document.shown, line,
                    f"image `{src}` has no alternative text, which --pdf-ua needs for screen "
                    f"readers: write what it shows between the brackets, `![…]({src})`"))
    return problems


def compose_accessible(document: Document) -> Composed:
    """`compose`, with the images without alternative text reported along with any other
    problem of the file."""
    missing = missing_alt_text(document)
    try:
        composed = compose(document)
    except BriefingError as error:
        if missing:
            raise BriefingError(sorted([*error.problems, *missing], key=by_line)) from None
        raise
    if missing:
        raise BriefingError(sorted([*missing, *composed.warnings], key=by_line))
    return composed
