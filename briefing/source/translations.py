"""Translations pair with their original by question id, and `check` says where they differ.

A translation is an ordinary document with `translation_of: NAME`, naming the original
`NAME.yaml` in the same folder (by convention the translation is `NAME.LANG.yaml`, so its
outputs are `out/NAME.LANG.pdf`). Each translated question carries the `id` of the question it
translates: ids derived from the question text cannot match across languages. Differences are
warnings, not errors, so a partial translation still builds; `--strict` makes them fail.
"""

from __future__ import annotations

from pathlib import Path

from briefing.errors import BriefingError, Problem
from briefing.source.load import load
from briefing.source.model import Document, validate


def _display(original: Path, document: Document) -> str:
    """The original's path in the same form as the translation's (as the user gave it)."""
    return str(Path(document.shown).parent / original.name)


def translation_problems(document: Document, project: Path) -> list[Problem]:
    """Questions missing from a translation, extra in it, or out of the original's order."""
    pairing = document.translation_of
    if pairing is None:
        return []
    shown = document.shown
    original_shown = _display(pairing.path, document)

    def warn(line: int | None, message: str) -> Problem:
        return Problem(shown, line, message, "warning")

    try:
        loaded = load(pairing.path, original_shown, project=project)
        original = validate(loaded, project, original_shown)
    except BriefingError as error:
        count = sum(1 for p in error.problems if p.is_error)
        return [warn(pairing.line, f"cannot compare with {original_shown}: it has {count} "
                                   f"error(s) (`briefing check {original_shown}` lists them)")]

    problems: list[Problem] = []
    if original.translation_of is not None:
        problems.append(warn(pairing.line, f"{original_shown} is itself a translation "
                                           f"(of {original.translation_of.name}); pair with "
                                           f"the original instead"))
    if original.lang == document.lang:
        problems.append(warn(None, f"`lang` is `{document.lang}`, the same as in "
                                   f"{original_shown}: set `lang:` to the translation's "
                                   f"language (it chooses fonts, line breaks and hyphenation)"))

    originals = {q.id: q for q in original.questions}
    translated = {q.id for q in document.questions}
    for question in document.questions:
        if question.id not in originals:
            problems.append(warn(
                question.line,
                f"question id `{question.id}` is not in {original_shown}: give each translated "
                f"question the `id:` of the question it translates",
            ))
    for question in original.questions:
        if question.id not in translated:
            problems.append(warn(
                pairing.line,
                f"question `{question.id}` of {original_shown}:{question.line} is not "
                f"translated (\"{_short(question.question)}\")",
            ))
    common = [q.id for q in document.questions if q.id in originals]
    in_original = [q.id for q in original.questions if q.id in translated]
    if common != in_original:
        first = next(i for i, (a, b) in enumerate(zip(common, in_original, strict=True)) if a != b)
        moved = next(q for q in document.questions if q.id == common[first])
        problems.append(warn(moved.line, f"question `{moved.id}` is out of the order of "
                                         f"{original_shown}, where `{in_original[first]}` "
                                         f"comes here"))
    return problems


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
