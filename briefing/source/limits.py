"""Resource limits: a build ends with an error a person can act on, never a hang.

Two lines of defence. Cheap checks on the content before anything is laid out (the size of a
document and the length of its words: a 2,000-letter "word" with hyphenation on costs WeasyPrint
half a minute, one in a table cell minutes, because every hyphenation point is tried by laying
the rest of the word out again). And a wall-clock limit on every WeasyPrint run, for whatever
the checks cannot foresee (huge tables, a theme's CSS): the limit grows with the size of the
part's HTML, so large legitimate documents still build.

The wall-clock limit is a SIGALRM timer, so it applies where signals can be handled: the main
thread of a process (the CLI, and each local worker process of `-j`). Library callers on other
threads (a Dask worker thread, say) get the content checks only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from briefing.errors import Problem
from briefing.source.load import MAX_SOURCE_BYTES
from briefing.source.model import Document, Text

__all__ = ["MAX_SOURCE_BYTES", "MAX_WORD_LETTERS", "content_problems"]

#: letters in a row in a script that separates words with spaces (the longest German
#: compounds in real use have about 80); scripts written without spaces (Khmer, Thai,
#: Chinese...) are not counted, their runs are broken between words by the renderer
MAX_WORD_LETTERS = 100

# Latin (with its extensions and IPA), Greek, Cyrillic and Armenian letters and their
# combining marks: the scripts the hyphenation dictionaries know.
_SPACED_LETTERS = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u058f\u1e00-\u1fff"
_LONG_WORD = re.compile(f"[{_SPACED_LETTERS}]{{{MAX_WORD_LETTERS + 1},}}")


def content_problems(document: Document) -> list[Problem]:
    """Content too big to lay out in reasonable time, each at its line."""
    problems: list[Problem] = []
    size = len(document.source)
    if size > MAX_SOURCE_BYTES:
        problems.append(Problem(
            document.shown, None,
            f"the document is {size / 1024 / 1024:.1f} MB; at most "
            f"{MAX_SOURCE_BYTES // 1024 // 1024} MB can be built (split it into several)",
        ))
        return problems
    for text in _texts(document):
        for match in _LONG_WORD.finditer(text.source):
            line = text.line + text.source.count("\n", 0, match.start())
            problems.append(Problem(
                document.shown, line,
                f"a word of {len(match.group())} letters (`{match.group()[:20]}…`) is longer "
                f"than {MAX_WORD_LETTERS}: it cannot be printed on a line; add spaces or "
                f"hyphens",
            ))
    return problems


def _texts(document: Document) -> Iterator[Text]:
    yield Text(document.title, 1)
    for section in document.sections:
        yield Text(section.title, section.line)
        if section.intro is not None:
            yield section.intro
        for question in section.questions:
            yield Text(question.question, question.line)
            yield question.answer
    for footnote in document.footnotes:
        yield footnote.text


