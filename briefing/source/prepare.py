"""The source stage in one call: a file on disk becomes a composed document, or every problem.

load (YAML with lines) -> validate (the model) -> limits -> compose (Markdown, notes numbered)
-> translation pairing. Nothing here imports WeasyPrint or pypdf: it is all `check` needs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from briefing.errors import BriefingError, shown_path
from briefing.source.limits import content_problems
from briefing.source.load import Loaded, load
from briefing.source.markdown import Composed, compose
from briefing.source.model import validate
from briefing.source.translations import translation_problems


def prepare(path: Path, project: Path, *, pdf_ua: bool = False, notes: str = "end") -> Composed:
    """Load, validate and parse one document: everything short of rendering. `pdf_ua` adds
    what tagged PDFs need of the content (images with alternative text: accessible.py);
    `notes` is where notes go when the document does not say (briefing.toml's build.notes)."""
    shown = shown_path(path)
    return prepare_loaded(load(path, shown), project, shown, pdf_ua=pdf_ua, notes=notes)


def prepare_loaded(loaded: Loaded, project: Path, shown: str, *,
                   pdf_ua: bool = False, notes: str = "end") -> Composed:
    """`prepare` for a file already loaded (a build reads each file once)."""
    document = validate(loaded, project, shown, notes=notes)
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
