"""The source stage in one call: a file on disk becomes a composed document, or every problem.

load (YAML with lines) -> validate (the model) -> limits -> compose (Markdown, notes numbered)
-> translation pairing. Nothing here imports WeasyPrint or pypdf: it is all `check` needs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from briefing.errors import BriefingError, shown_path
from briefing.source.limits import content_problems
from briefing.source.load import Loaded, UsableTree, load
from briefing.source.markdown import Composed, compose
from briefing.source.model import InvalidDocument, by_line, validate
from briefing.source.translations import translation_problems


def prepare(path: Path, project: Path, *, pdf_ua: bool = False, notes: str = "end") -> Composed:
    """Load, validate and parse one document: everything short of rendering. `pdf_ua` adds
    what tagged PDFs need of the content (images with alternative text: accessible.py);
    `notes` is where notes go when the document does not say (briefing.toml's build.notes)."""
    shown = shown_path(path)
    try:
        loaded = load(path, shown, project=project)
    except UsableTree as usable:
        every_problem(usable, project, shown, notes=notes)
    return prepare_loaded(loaded, project, shown, pdf_ua=pdf_ua, notes=notes)


def every_problem(usable: UsableTree, project: Path, shown: str, *,
                  notes: str = "end") -> NoReturn:
    """A file whose loading found problems in a tree still whole (a duplicate key): its
    schema and notes are checked too, and everything is raised together."""
    from briefing.source.pack import is_pack

    if is_pack(usable.loaded):
        raise usable
    try:
        prepare_loaded(usable.loaded, project, shown, notes=notes)
    except BriefingError as error:
        both = dict.fromkeys([*usable.problems, *error.problems])
        raise BriefingError(sorted(both, key=by_line)) from None
    raise usable


def prepare_loaded(loaded: Loaded, project: Path, shown: str, *,
                   pdf_ua: bool = False, notes: str = "end") -> Composed:
    """`prepare` for a file already loaded (a build reads each file once)."""
    try:
        document = validate(loaded, project, shown, notes=notes)
    except InvalidDocument as invalid:
        if invalid.partial is None:
            raise
        # The notes are checked on what did validate: a call to an undefined note is
        # reported with the structural errors, not once they are fixed.
        try:
            compose(invalid.partial)
        except BriefingError as error:
            more = [p for p in error.problems if p.is_error]
            both = dict.fromkeys([*invalid.problems, *more])
            raise BriefingError(sorted(both, key=by_line)) from None
        raise
    too_big = content_problems(document)  # before any layout: see source/limits.py
    if too_big:
        raise BriefingError(too_big)
    if pdf_ua:
        from briefing.source.accessible import compose_accessible

        composed = compose_accessible(document)
    else:
        composed = compose(document)
    paired = translation_problems(document, project)
    return replace(composed, warnings=composed.warnings + tuple(paired)) if paired else composed
