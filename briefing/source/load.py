"""Stage 1: a YAML file on disk becomes a tree of values that remember their line.

PyYAML's constructors lose positions, resolve YAML 1.1 surprises (`NO` → False, `012` → 10),
silently keep the last of two duplicate keys and expand aliases without limit. So the file is
only *composed* (parsed to nodes) and the nodes are turned into small typed values here: every
scalar keeps the text the author typed, and the model decides what each field means.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from briefing.errors import BriefingError, Problem, printable
from briefing.source.files import Refused, read_inside
from briefing.source.invisible import invisible_warnings

#: a content file's size, checked before it is parsed (a 100 MB file would take minutes and
#: gigabytes to parse); 5,000 generated questions (bench/bench_scale.py) are 4.4 MB
MAX_SOURCE_BYTES = 8 * 1024 * 1024

#: Node visits allowed when expanding a file; ordinary anchor reuse stays far below this, an
#: alias "bomb" (each level doubling the last) reaches it after a few levels, fast.
MAX_NODES = 100_000
#: Lists and mappings inside each other; the content format needs 6. PyYAML's composer recurses
#: (and its scanner slows down quadratically) with depth, so deeper files are refused early.
MAX_DEPTH = 50

_BIDI_CONTROLS = frozenset({
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
})
#: C0 controls but tab, CR and LF; DEL; C1 controls; invisible line breaks (which PyYAML
#: counts as new lines, so every later line number would be off); the two non-characters
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
_BIDI_RE = re.compile("[" + "".join(sorted(_BIDI_CONTROLS)) + "]")
#: UTF-16 halves: no text can hold them, but a YAML escape (`"\uD800"`) makes one, and
#: WeasyPrint fails on it far away from the file; a JSON-style pair stays two halves in YAML
_SURROGATE_RE = re.compile("([\ud800-\udbff][\udc00-\udfff])|[\ud800-\udfff]")


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


def load(path: Path, display_path: str | None = None, *, project: Path | None = None) -> Loaded:
    """Read and parse one content file; every problem is a BriefingError naming path and line.

    The file must be a regular file of at most MAX_SOURCE_BYTES (checked before parsing) and,
    when `project` is given, resolve inside it: a symlink to YAML elsewhere is refused.
    """
    shown = display_path or str(path)
    raw = read_content_file(path, shown, project)
    text, warnings = decode(raw, shown)
    try:
        root, more = parse_with_warnings(text, shown)
    except _UsableRoot as usable:
        raise UsableTree(usable.problems, Loaded(
            path=path, root=usable.root, source=raw,
            warnings=tuple(dict.fromkeys((*warnings, *usable.warnings))))) from None
    # A character typed inside double quotes is seen both in its line and in its scalar.
    unique = tuple(dict.fromkeys((*warnings, *more)))
    return Loaded(path=path, root=root, source=raw, warnings=unique)


def read_content_file(path: Path, shown: str, project: Path | None) -> bytes:
    """The bytes of a content, pack or recipients file, or a BriefingError naming it."""
    try:
        return read_inside(path, project or Path(path.anchor or "/"), limit=MAX_SOURCE_BYTES,
                           shown=shown)
    except OSError as exc:
        raise BriefingError.at(shown, None, f"cannot read file: {exc.strerror}") from None
    except Refused as exc:
        if exc.reason.startswith("larger than"):
            raise BriefingError.at(shown, None, f"the file is {exc.reason}, the most a content "
                                   "file may be (split it into several)") from None
        if exc.reason == "outside the project" and path.is_symlink():
            raise BriefingError.at(shown, None, "refused to read: a symbolic link to a file "
                                   "outside the project") from None
        raise BriefingError.at(shown, None, f"refused to read: {exc.reason}") from None


def _looks_utf16(raw: bytes) -> bool:
    """UTF-16 text without a byte order mark: mostly ASCII, so every other byte is zero."""
    head = raw[:200]
    return len(head) >= 4 and head.count(0) * 3 >= len(head)


def decode(raw: bytes, shown: str) -> tuple[str, tuple[Problem, ...]]:
    """UTF-8 only (a BOM is fine); control characters are refused, bidi overrides reported."""
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise BriefingError.at(shown, 1, "file is UTF-32 encoded; save it as UTF-8")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_utf16(raw):
        raise BriefingError.at(shown, 1, "file is UTF-16 encoded; save it as UTF-8")
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
    # One line-break convention, so our line numbers and PyYAML's agree.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for number, content in enumerate(text.split("\n"), start=1):
        found = _CONTROL_RE.search(content)
        if found:
            problems.append(Problem(shown, number, _control_message(found.group(), found.start())))
        warnings.extend(_bidi_warnings(content, shown, number))
        warnings.extend(invisible_warnings(content, shown, number))
    if problems:
        raise BriefingError(problems)
    return text, tuple(warnings)


def _control_message(char: str, column: int | None = None) -> str:
    where = f" (column {column + 1})" if column is not None else ""
    if char in "\u2028\u2029":
        what = f"invisible line separator U+{ord(char):04X}"
    elif ord(char) >= 0x100:
        what = f"non-character U+{ord(char):04X}"
    else:
        what = f"control character {printable(char)}"
    return f"{what}{where} is not allowed; delete it or retype the text"


def _surrogate_message(found: re.Match[str]) -> str:
    if found.group(1):  # `"\uD83D\uDE00"`, as JSON writes U+1F600
        high, low = (ord(c) for c in found.group(1))
        code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        return (f"invalid Unicode: a surrogate pair U+{high:04X} U+{low:04X} (as JSON writes "
                f"U+{code:04X}); YAML writes it `\\U{code:08X}`, or type the character itself")
    return (f"invalid Unicode: a lone surrogate U+{ord(found.group()):04X}; delete the escape "
            "or write the character it was meant to be")


def _bidi_warnings(text: str, shown: str, line: int) -> list[Problem]:
    return [
        Problem(
            shown,
            line,
            f"bidirectional control character U+{ord(char):04X} makes the printed text "
            "differ from the stored text",
            "warning",
        )
        for char in sorted(set(_BIDI_RE.findall(text)))
    ]


class _TooDeep(Exception):
    def __init__(self, line: int):
        self.line = line


class _Composer(yaml.SafeLoader):
    """Only used to compose nodes (construction happens in `_convert`), with a depth limit."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        #: where each alias is used: (parent node, item index or key node) -> line
        self.aliases: dict[tuple[int, object], int] = {}

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            line = event.start_mark.line + 1 if event.start_mark else 0
            if self._depth > MAX_DEPTH:
                raise _TooDeep(line)
            if isinstance(event, yaml.AliasEvent) and parent is not None:
                self.aliases[_slot(parent, index)] = line
            node: yaml.Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1


def _slot(parent: yaml.Node, index: object) -> tuple[int, object]:
    """A child's place in its parent: PyYAML passes a list index, or the key node of a value."""
    return (id(parent), index if isinstance(index, int) else id(index))


def parse(text: str, shown: str) -> Value:
    """The tree of one YAML text (warnings dropped; `load` keeps them)."""
    return parse_with_warnings(text, shown)[0]


def parse_with_warnings(text: str, shown: str) -> tuple[Value, tuple[Problem, ...]]:
    try:
        loader = _Composer(text)
        try:
            node = loader.get_single_node()
            aliases = loader.aliases
        finally:
            loader.dispose()
    except _TooDeep as exc:
        raise BriefingError.at(
            shown, exc.line, f"lists and mappings are nested more than {MAX_DEPTH} levels deep"
        ) from None
    except RecursionError:
        raise BriefingError.at(shown, None, "YAML is nested too deeply") from None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, shown) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise BriefingError.at(
            shown, line, f"character {printable(chr(exc.character))} is not allowed in YAML"
        ) from None
    except yaml.YAMLError as exc:
        raise BriefingError.at(shown, None, f"YAML error: {exc}") from None
    if node is None or (
        isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG and not node.value
    ):
        what = "is empty" if not _has_content(text) else "has only comments"
        raise BriefingError.at(
            shown, 1, f"file {what}: expected a mapping with at least `title` and `sections`"
        )
    state = _State(shown, aliases)
    root = _convert(node, state, depth=0, origin=node.start_mark.line + 1)
    if state.problems:
        raise _UsableRoot(sorted(state.problems, key=_by_line), root, tuple(state.warnings))
    return root, tuple(state.warnings)


class _UsableRoot(BriefingError):
    def __init__(self, problems: list[Problem], root: Value, warnings: tuple[Problem, ...]):
        super().__init__(problems)
        self.root = root
        self.warnings = warnings


class UsableTree(BriefingError):
    """Problems found while loading (a duplicate key, a merge key, a control character) in a
    tree that is still whole: the schema can be checked too, so every problem of the file is
    reported at once (source/prepare.py). Callers that only catch BriefingError see the
    load's problems as before."""

    def __init__(self, problems: tuple[Problem, ...], loaded: Loaded):
        super().__init__(problems)
        self.loaded = loaded


def _has_content(text: str) -> bool:
    return any(line.strip() and line.strip() != "---" for line in text.split("\n"))


def _by_line(problem: Problem) -> int:
    return problem.line or 0


_HINTS = (
    ("'\\t'", "indent with spaces: tabs are not allowed in YAML indentation"),
    ("mapping values are not allowed here",
     "check the indentation, or put text that contains `: ` in quotes"),
    ("expected <block end>", "check the indentation of this line and the one before"),
    ("could not find expected ':'", "a key needs `: ` after it, or the text needs quotes"),
)


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, shown: str) -> BriefingError:
    """A YAML error at the line a person should look at, with a hint for the usual causes."""
    problem, context = exc.problem or "invalid YAML", exc.context
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    context_mark = exc.context_mark
    if "another document" in problem and exc.problem_mark is not None:
        return BriefingError.at(
            shown, exc.problem_mark.line + 1, "YAML syntax error: a second document starts here; "
            "a content file holds one document (remove this `---`)",
        )
    at_end = mark is not None and mark.index >= len(text.rstrip())
    if at_end and mark is not None and context_mark is not None and (
        context_mark.index < mark.index
    ):
        # "unexpected end of stream" is found at the end of the file; the cause is where the
        # unfinished thing (a quote, a bracket) started.
        line = context_mark.line + 1
        if context and "quoted scalar" in context:
            return BriefingError.at(
                shown, line, "YAML syntax error: a quote opened on this line is never closed"
            )
        problem = f"{problem} ({context} that starts on this line)"
        context = None
    elif context and context_mark is not None and mark is not None and (
        context_mark.line < mark.line
    ):
        problem = f"{problem} ({context} that starts on line {context_mark.line + 1})"
    elif context:
        problem = f"{problem} ({context})"
    short = _short_continuation(text, exc)
    if short is not None:
        return BriefingError.at(shown, short[0], short[1])
    hints = [hint for needle, hint in _HINTS if needle in problem]
    if exc.problem_mark is not None:
        quoted = _runaway_quote(text, exc.problem_mark.line)
        if quoted is not None:
            hints.insert(0, f"the quoted text opened on line {quoted} runs on to this line: "
                            "is a closing quote missing?")
    message = f"YAML syntax error: {problem}"
    if hints:
        message += f"; {hints[0]}"
    return BriefingError.at(shown, line, message)


_KEY_LINE = re.compile(r"^(\s*(?:-\s+)?)([^\s:#][^:#]*?):[ \t]+[^\s|>#]")


def _short_continuation(text: str, exc: yaml.MarkedYAMLError) -> tuple[int, str] | None:
    """A text's second line indented no deeper than its key (`answer: Some text` then
    `more text` under `answer`) reads to YAML as a key missing its `:`, found a line late.
    The line to fix is the one that starts the "key": that continuation line."""
    if "could not find expected ':'" not in (exc.problem or "") or exc.context_mark is None:
        return None
    lines = text.split("\n")
    number = exc.context_mark.line
    if number >= len(lines) or ":" in lines[number]:
        return None
    indent = len(lines[number]) - len(lines[number].lstrip(" "))
    for above in range(number - 1, -1, -1):
        if not lines[above].strip() or lines[above].lstrip().startswith("#"):
            continue
        key = _KEY_LINE.match(lines[above])
        if key is None:
            return None
        key_column = len(key.group(1))
        if indent > key_column:
            return None
        name = key.group(2).strip()
        return number + 1, (
            f"YAML syntax error: this line continues the text of `{name}` (line {above + 1}) "
            f"but is indented too little: indent it further than `{name}:`, or start the text "
            f"on its own lines with `{name}: |`")
    return None


def _runaway_quote(text: str, error_line: int) -> int | None:
    """The line of a quoted scalar spanning several lines and ending on the error's line."""
    found = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.line > error_line:
                break
            if (
                isinstance(token, yaml.ScalarToken)
                and token.style in ('"', "'")
                and token.start_mark.line < token.end_mark.line == error_line
            ):
                found = token.start_mark.line + 1
    except (yaml.YAMLError, RecursionError):
        pass
    return found


_NULL_TAG = "tag:yaml.org,2002:null"
_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(
    _CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "merge", "value")
)


class _State:
    """What converting one file collects: problems, warnings and the alias budget."""

    def __init__(self, shown: str, aliases: dict[tuple[int, object], int]):
        self.shown = shown
        self.aliases = aliases
        self.budget = MAX_NODES
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        #: nodes already checked (an alias reuses a node; report it once)
        self.checked: set[int] = set()
        #: nodes being converted, to catch an alias inside its own anchor
        self.open: set[int] = set()

    def once(self, node: yaml.Node) -> bool:
        if id(node) in self.checked:
            return False
        self.checked.add(id(node))
        return True


def _tag_problem(node: yaml.Node) -> str | None:
    tag = node.tag or ""
    if isinstance(node, yaml.ScalarNode):
        ok = tag in _SCALAR_TAGS
    elif isinstance(node, yaml.SequenceNode):
        ok = tag == _CORE + "seq"
    else:
        ok = tag == _CORE + "map"
    if ok:
        return None
    shown = "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag
    return (f"YAML tag `{printable(shown)}` is not supported here: content is plain text, "
            "lists and mappings")


def _convert(
    node: yaml.Node, state: _State, depth: int, origin: int, used_at: int | None = None
) -> Value:
    """Nodes to values; `origin` is the line of the top-level entry, named if aliases explode;
    `used_at` the line of the alias when this node is reached through one."""
    line = node.start_mark.line + 1
    state.budget -= 1
    if state.budget < 0:
        raise BriefingError.at(
            state.shown,
            origin,
            f"document expands to more than {MAX_NODES} values (aliases nested too deeply)",
        )
    if depth > MAX_DEPTH or id(node) in state.open:
        raise BriefingError.at(
            state.shown, used_at or line,
            f"an alias refers to a value that contains it, or aliases nest more than {MAX_DEPTH} "
            "levels deep",
        )
    first = state.once(node)
    if first:
        problem = _tag_problem(node)
        if problem:
            state.problems.append(Problem(state.shown, line, problem))
    if isinstance(node, yaml.ScalarNode):
        block = node.style in ("|", ">")
        if first and node.style == '"':
            # Escapes (`"\x01"`, `"\u202e"`) make characters the byte check never saw.
            found = _CONTROL_RE.search(node.value)
            if found:
                state.problems.append(Problem(state.shown, line, _control_message(found.group())))
            surrogate = _SURROGATE_RE.search(node.value)
            if surrogate:
                state.problems.append(Problem(state.shown, line, _surrogate_message(surrogate)))
            state.warnings.extend(_bidi_warnings(node.value, state.shown, line))
            state.warnings.extend(invisible_warnings(node.value, state.shown, line))
        return Scalar(
            text=node.value,
            line=line,
            text_line=line + 1 if block else line,
            is_null=node.tag == _NULL_TAG and node.style is None,
        )
    state.open.add(id(node))
    try:
        if isinstance(node, yaml.SequenceNode):
            return Sequence(
                tuple(
                    _convert(item, state, depth + 1, _origin(item, depth, origin),
                             state.aliases.get(_slot(node, index)))
                    for index, item in enumerate(node.value)
                ),
                line,
            )
        if isinstance(node, yaml.MappingNode):
            return _mapping(node, state, depth, origin, report=first)
    finally:
        state.open.discard(id(node))
    raise BriefingError.at(state.shown, line, "unsupported YAML node")  # pragma: no cover


def _origin(child: yaml.Node, depth: int, origin: int) -> int:
    """Children of the root start a new top-level entry; deeper ones keep their entry's line."""
    return origin if depth else child.start_mark.line + 1


def _mapping(
    node: yaml.MappingNode, state: _State, depth: int, origin: int, *, report: bool
) -> Mapping:
    """Keys must be unique plain text; `report` is False when an alias revisits the node."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    items: list[tuple[Scalar, Value]] = []
    for key_node, value_node in node.value:
        top = _origin(key_node, depth, origin)
        key = _convert(key_node, state, depth + 1, top)
        if not isinstance(key, Scalar):
            problems.append(Problem(state.shown, key.line, "mapping keys must be plain text"))
            continue
        if key.text == "<<" and key_node.tag == _CORE + "merge":
            problems.append(Problem(state.shown, key.line, "merge keys (`<<`) are not supported"))
            continue
        if key.text in seen:
            problems.append(
                Problem(
                    state.shown,
                    key.line,
                    f"duplicate key `{key.text}` (first given on line {seen[key.text]})",
                )
            )
            continue
        seen[key.text] = key.line
        used_at = state.aliases.get(_slot(node, key_node))
        items.append((key, _convert(value_node, state, depth + 1, top, used_at)))
    if report:
        state.problems.extend(problems)
    return Mapping(tuple(items), node.start_mark.line + 1)
