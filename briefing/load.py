"""Stage 1: a YAML file on disk becomes a tree of values that remember their line.

PyYAML's constructors lose positions, resolve YAML 1.1 surprises (`NO` → False, `012` → 10),
silently keep the last of two duplicate keys and expand aliases without limit. So the file is
only *composed* (parsed to nodes) and the nodes are turned into small typed values here: every
scalar keeps the text the author typed, and the model decides what each field means.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import BriefingError, Problem, printable

#: Node visits allowed when expanding a file; ordinary anchor reuse stays far below this, an
#: alias "bomb" (each level doubling the last) reaches it after a few levels, fast.
MAX_NODES = 100_000

_BIDI_CONTROLS = {
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
}


@dataclass(frozen=True)
class Scalar:
    text: str
    line: int
    #: the first line of the text itself (block scalars start on the line after `|`)
    text_line: int
    #: True when unquoted and resolved by YAML to null (`~`, `null`, empty)
    is_null: bool = False


@dataclass(frozen=True)
class Mapping:
    items: tuple[tuple[Scalar, Value], ...]
    line: int


@dataclass(frozen=True)
class Sequence:
    items: tuple[Value, ...]
    line: int


Value = Scalar | Mapping | Sequence


@dataclass(frozen=True)
class Loaded:
    """A parsed file: its tree, its exact bytes (kept for archiving) and any warnings."""

    path: Path
    root: Value
    source: bytes
    warnings: tuple[Problem, ...] = ()


def load(path: Path, display_path: str | None = None) -> Loaded:
    """Read and parse one content file; every problem is a BriefingError naming path and line."""
    shown = display_path or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BriefingError.at(shown, None, f"cannot read file: {exc.strerror}") from None
    text, warnings = decode(raw, shown)
    root = parse(text, shown)
    return Loaded(path=path, root=root, source=raw, warnings=warnings)


def decode(raw: bytes, shown: str) -> tuple[str, tuple[Problem, ...]]:
    """UTF-8 only (a BOM is fine); control characters are refused, bidi overrides reported."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE)):
        raise BriefingError.at(shown, 1, "file is UTF-16 or UTF-32 encoded; save it as UTF-8")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start:exc.end]
        raise BriefingError.at(
            shown, line, f"invalid UTF-8 (byte {bad!r}); save the file as UTF-8"
        ) from None
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for number, line in enumerate(text.split("\n"), start=1):
        for char in line:
            if (ord(char) < 0x20 and char not in "\t\r") or char == "\x7f" or (
                0x80 <= ord(char) < 0xA0
            ):
                problems.append(
                    Problem(shown, number, f"control character {printable(char)} is not allowed")
                )
                break
        for char in set(line) & _BIDI_CONTROLS:
            warnings.append(
                Problem(
                    shown,
                    number,
                    f"bidirectional control character U+{ord(char):04X} makes the printed text "
                    "differ from the stored text",
                    "warning",
                )
            )
    if problems:
        raise BriefingError(problems)
    return text, tuple(warnings)


class _Composer(yaml.SafeLoader):
    """Only used to compose nodes; construction happens in `_convert`."""


def parse(text: str, shown: str) -> Value:
    try:
        node = yaml.compose(text, Loader=_Composer)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = exc.problem or "invalid YAML"
        if exc.context:
            message = f"{message} ({exc.context})"
        raise BriefingError.at(shown, line, f"YAML syntax error: {message}") from None
    except yaml.YAMLError as exc:
        raise BriefingError.at(shown, None, f"YAML error: {exc}") from None
    if node is None:
        raise BriefingError.at(
            shown, 1, "file is empty: expected a mapping with at least `title` and `sections`"
        )
    budget = [MAX_NODES]
    return _convert(node, shown, budget)


_NULL_TAG = "tag:yaml.org,2002:null"


def _convert(node: yaml.Node, shown: str, budget: list[int]) -> Value:
    budget[0] -= 1
    if budget[0] < 0:
        raise BriefingError.at(
            shown,
            node.start_mark.line + 1,
            f"document expands to more than {MAX_NODES} values (aliases nested too deeply)",
        )
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        block = node.style in ("|", ">")
        return Scalar(
            text=node.value,
            line=line,
            text_line=line + 1 if block else line,
            is_null=node.tag == _NULL_TAG and node.style is None,
        )
    if isinstance(node, yaml.SequenceNode):
        return Sequence(tuple(_convert(item, shown, budget) for item in node.value), line)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        items: list[tuple[Scalar, Value]] = []
        problems: list[Problem] = []
        for key_node, value_node in node.value:
            key = _convert(key_node, shown, budget)
            if not isinstance(key, Scalar):
                problems.append(Problem(shown, key.line, "mapping keys must be plain text"))
                continue
            if key.text == "<<" and key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(Problem(shown, key.line, "merge keys (`<<`) are not supported"))
                continue
            if key.text in seen:
                problems.append(
                    Problem(
                        shown,
                        key.line,
                        f"duplicate key `{key.text}` (first given on line {seen[key.text]})",
                    )
                )
                continue
            seen[key.text] = key.line
            items.append((key, _convert(value_node, shown, budget)))
        if problems:
            raise BriefingError(problems)
        return Mapping(tuple(items), line)
    raise BriefingError.at(shown, line, "unsupported YAML node")  # pragma: no cover
