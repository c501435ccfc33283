"""Invisible characters and look-alike letters inside what readers copy or type by hand.

Text pasted from Word, web pages and e-mail brings characters nobody sees: a zero-width space
inside `+855 23 123 456`, a word joiner inside `info@example.org`, or a Cyrillic `о` that looks
exactly like the Latin one. Printed, the number or address looks right; copied from the PDF or
the web page, or followed as a link, it is wrong. So inside phone numbers, e-mail addresses and
links (and only there: elsewhere these characters are usually harmless or wanted) each one is a
warning with its line, its code and its Unicode name.

Khmer is written without spaces between words and uses U+200B to mark where a line may break,
and joiners to shape clusters: an invisible character next to a Khmer letter or digit is left
alone. Scripts are told apart with `confusable_homoglyphs` (Unicode's script data and TR39
confusables), which also names the Latin letter a look-alike imitates.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from briefing.errors import Problem

#: Characters that print as nothing but are not spaces: every format character (Cf: zero-width
#: space, joiners, word joiner, soft hyphen, BOM...) and the few letters and marks that are
#: blank by design. Bidi controls are Cf too, but load.py warns about them already.
_BLANK_BY_DESIGN = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f"
                             "\u3164\uffa0\u2800")
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_invisible(char: str) -> bool:
    return char not in _BIDI and (
        unicodedata.category(char) == "Cf" or char in _BLANK_BY_DESIGN
        or 0xFE00 <= ord(char) <= 0xFE0F  # variation selectors
    )


#: what people copy or type from paper, found in the text with the invisible characters left
#: out (so one inside still lets the address be found); the name goes into the message
_COPIED = (
    ("link", re.compile(r"(?:https?|ftp)://[^\s<>()\[\]\"'`]+|www\.[^\s<>()\[\]\"'`]+",
                        re.IGNORECASE)),
    ("e-mail address", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("phone number", re.compile(r"(?<![\w+])\+?\(?\d[\d ().\-/\u00a0]{4,}\d(?!\w)")),
)
_TRAILING = ".,;:!?"
_MIN_PHONE_DIGITS = 6


@dataclass(frozen=True)
class _Copied:
    kind: str
    start: int
    end: int


def _is_khmer(char: str) -> bool:
    return "\u1780" <= char <= "\u17ff" or "\u19e0" <= char <= "\u19ff"


def _skeleton(text: str) -> tuple[str, list[int]]:
    """The text without its invisible characters, and where each kept character came from."""
    kept = [i for i, char in enumerate(text) if not is_invisible(char)]
    return "".join(text[i] for i in kept), kept


def _copied(text: str) -> Iterator[_Copied]:
    """Phone numbers, e-mail addresses and links of `text`, as spans of the original text."""
    skeleton, origin = _skeleton(text)
    taken: list[tuple[int, int]] = []
    for kind, pattern in _COPIED:
        for found in pattern.finditer(skeleton):
            start, end = found.start(), found.end()
            while end > start + 1 and skeleton[end - 1] in _TRAILING:
                end -= 1
            if kind == "phone number" and sum(c.isdigit() for c in skeleton[start:end]) < (
                _MIN_PHONE_DIGITS
            ):
                continue
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue  # the digits of a link, the domain of an address already found
            taken.append((start, end))
            yield _Copied(kind, origin[start], origin[end - 1] + 1)


def _neighbours(text: str, index: int) -> str:
    """The nearest visible characters on either side of position `index`."""
    before = next((c for c in reversed(text[:index]) if not is_invisible(c)), "")
    after = next((c for c in text[index + 1:] if not is_invisible(c)), "")
    return before + after


def _shown(text: str) -> str:
    """A span quoted in a message: invisible characters written as `\\uXXXX`."""
    return "".join(f"\\u{ord(c):04x}" if is_invisible(c) or not c.isprintable() else c
                   for c in text)


def _name(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"


def _problems_in(text: str) -> Iterator[tuple[int, str]]:
    """(offset, message) of each invisible or look-alike character inside a copied span."""
    for span in _copied(text):
        inside = text[span.start:span.end]
        what = f"the {span.kind} `{_shown(inside)}`"
        seen: set[str] = set()
        for offset, char in enumerate(inside, start=span.start):
            if not is_invisible(char) or char in seen or any(
                _is_khmer(c) for c in _neighbours(text, offset)
            ):
                continue
            seen.add(char)
            yield offset, (f"invisible character {_name(char)} inside {what}: a reader who "
                           "copies it gets a different text; delete it")
        for word in re.finditer(r"[^\W\d_]+", inside):
            yield from _look_alikes(word.group(), span.start + word.start(), what)


def _look_alikes(word: str, offset: int, what: str) -> Iterator[tuple[int, str]]:
    """Letters of another script inside a word of one script (`jоhn` with a Cyrillic `о`);
    a word all in one script (an internationalised domain name) is fine. (The script data
    is imported here, on the first word that is not ASCII: loading it costs 60 ms, which
    most builds never need.)"""
    from confusable_homoglyphs import categories, confusables

    if not confusables.is_mixed_script(word):
        return
    scripts = [categories.alias(c) for c in word]
    main = max(set(scripts), key=lambda s: (scripts.count(s), s == "LATIN"))
    seen: set[str] = set()
    for index, (char, script) in enumerate(zip(word, scripts, strict=True)):
        if script in (main, "COMMON") or char in seen:
            continue
        seen.add(char)
        found = confusables.is_confusable(char, preferred_aliases=[main.lower()])
        like = ""
        if found and found[0]["homoglyphs"]:
            like = f", which looks like {main.title()} `{found[0]['homoglyphs'][0]['c']}`"
        yield offset + index, (f"{script.title()} letter {_name(char)}{like}, among "
                               f"{main.title()} letters in {what}: a reader who types or "
                               "follows it reaches a different address; retype it")


def invisible_warnings(text: str, shown: str, line: int) -> list[Problem]:
    """Warnings for one text whose first character is on `line` (line breaks counted)."""
    if text.isascii():  # the common case, fast: nothing invisible, no other script
        return []
    return [
        Problem(shown, line + text.count("\n", 0, offset), message, "warning")
        for offset, message in sorted(_problems_in(text))
    ]
