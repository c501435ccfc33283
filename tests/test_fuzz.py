"""Random documents: every outcome is a success or a BriefingError naming the file.

Random YAML text, random bytes and random structures of the content format (with control
characters, bidi overrides, Markdown, footnotes, images, wrong types) go through the loader,
`check` and the HTML stage many times, and through the whole build (WeasyPrint and pypdf) a few
times. No other exception may escape. The build part runs under a module budget, so the module
stays well under a minute on two cores.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from badinput import RAW_CONTROL
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefing import api
from briefing.errors import BriefingError, Problem
from briefing.jobs.pipeline import build_document
from briefing.render.html import page_html
from briefing.render.theme import theme_for
from briefing.source.prepare import prepare

from conftest import write_project

#: seconds the whole-build examples may take together; later examples are skipped
BUILD_BUDGET = 30.0
FAST = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOW = settings(max_examples=8, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- random YAML text, from pieces that make YAML interesting

YAML_PIECES = [
    "title: ", "sections:", "\n", "\n  ", "\n    ", "- ", "  - title: S", "    questions:",
    "      - question: Q", "        answer: ", "footnotes:", "  n: ", "intro: ", "id: x",
    "date: 2025-02-30", "date: 2025-01-02", "lang: km", "cover: ../x.pdf", "&a ", "*a", "<<: *a",
    "!!python/object:os.system", "!!binary ", "---", "...", "? ", ": ", "|", ">-", "'", '"',
    "[", "]", "{", "}", ",", "#", "%YAML 1.1\n", "\t", "\r\n", "\\x1b", "\\u202e", "\x00",
    "\x1b[2J", "\u202e", "\u2028", "\ufeff", "\x85", "NO", "012", "1.10", "~", "null", "yes",
    "ខ្មែរ", "عربي", "[^n]", "^[inline]", "![i](../../etc/passwd)", "> > >", "**", "`",
    "{{ x }}", "<script>", "\\", "@", "`cmd`",
]
yaml_text = st.lists(st.one_of(st.sampled_from(YAML_PIECES), st.text(max_size=8)),
                     max_size=40).map("".join)

# -- random structures of the content format

MARKDOWN_PIECES = [
    "**bold**", "*em*", "`code`", "[link](https://example.org)", "[bad](javascript:alert(1))",
    "[^n]", "[^missing]", "^[an inline note]", "^[outer ^[inner]]", "\n\n[^n]: defined here\n",
    "![ok](../images/ok.png)", "![gone](../images/none.png)", "![out](../../../etc/passwd)",
    "![web](https://example.org/a.png)", "\n\n> quoted\n", "\n\n- a\n- b\n", "\n\n1. one\n",
    "\n\n" + ">" * 12 + " deep\n", "\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", "\n\n# heading\n",
    "<b>raw html</b>", "{{ template }}", "{% if x %}", "\n\n```\ncode block\n```\n", "\\",
    "&amp; &nbsp; &#0;", "\u202eevil", "\x00", "\x1b[31m", "ខ្មែរ", "עברית", "😀", "\u00ad",
    "a" * 300, "~~strike~~", "---\n", "\n\n    indented code\n",
]
words = st.text(max_size=20)
markdown = st.lists(st.one_of(words, st.sampled_from(MARKDOWN_PIECES)), max_size=6).map("".join)
scalar = st.one_of(words, st.integers(), st.floats(allow_nan=True), st.booleans(), st.none())
anything = st.recursive(scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(words, inner, max_size=3)), max_leaves=6)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the right type, sometimes anything at all."""
    return st.one_of(strategy, strategy, strategy, anything)


question = st.fixed_dictionaries(
    {"question": maybe(words), "answer": maybe(markdown)},
    optional={"id": maybe(st.from_regex(r"[a-z0-9][a-z0-9-]{0,10}", fullmatch=True)),
              "anwser": words})
section = st.fixed_dictionaries(
    {"title": maybe(words), "questions": maybe(st.lists(question, max_size=3))},
    optional={"intro": maybe(markdown)})
document = st.fixed_dictionaries(
    {"title": maybe(words), "sections": maybe(st.lists(section, max_size=3))},
    optional={
        "subtitle": maybe(words), "date": maybe(st.sampled_from(["2025-01-02", "2025-02-30"])),
        "lang": maybe(st.sampled_from(["en", "km", "no", "x y"])), "version": maybe(words),
        "classification": maybe(words), "footnotes": maybe(st.dictionaries(
            st.sampled_from(["n", "missing", "two words", "x"]), maybe(markdown), max_size=3)),
        "cover": maybe(st.sampled_from(["covers/none.pdf", "/etc/passwd", "images/ok.png"])),
        "unknown": anything,
    })
#: documents that usually pass validation, for the slow whole-build runs: any printable
#: Unicode (all scripts, emoji, combining marks) and Markdown that is not an error
PRINTABLE_MARKDOWN = [
    piece for piece in MARKDOWN_PIECES
    if not any(bad in piece for bad in ("\x00", "\x1b", "\u202e", "missing", "none.png",
                                        "etc/passwd", "https://example.org/a", "^[outer",
                                        ">" * 12, "[^n]"))
]
text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20).filter(str.strip)
prose = st.lists(st.one_of(text, st.sampled_from(PRINTABLE_MARKDOWN)), min_size=1,
                 max_size=5).map("".join).filter(str.strip)
plausible = st.fixed_dictionaries({
    "title": text,
    "sections": st.lists(st.fixed_dictionaries(
        {"title": text, "questions": st.lists(st.fixed_dictionaries(
            {"question": text, "answer": prose}), min_size=1, max_size=3)},
        optional={"intro": prose}), min_size=1, max_size=2),
}, optional={"subtitle": text, "date": st.just("2025-01-02"), "classification": text,
             "lang": st.sampled_from(["en", "km", "ar", "he"])})


#: a 1x1 white PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8ffff3f0005fe02fea7d6a4c10000000049454e44ae426082"
)


def dump(data: Any, flow: bool, unicode: bool) -> str:
    return yaml.safe_dump(data, allow_unicode=unicode, default_flow_style=flow, sort_keys=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("fuzz"), {"images/ok.png": PNG})


def outcome(project: Path, data: bytes) -> tuple[str, tuple[Problem, ...]]:
    """Check one file; returns ('ok'|'error', problems). Any other exception fails the test."""
    path = project / "content" / "fuzz.yaml"
    path.write_bytes(data)
    result = api.check([path], project=project)
    for problem in result.problems:
        assert Path(problem.path).name == "fuzz.yaml", problem
        assert problem.severity in ("error", "warning")
        assert problem.message
        assert not RAW_CONTROL.search(str(problem)), repr(str(problem))
    if result.failed():
        return "error", result.problems
    # the HTML stage too: cheap, and it sees every field and all the Markdown
    composed = prepare(path, project)
    page_html(composed, theme_for(project))
    return "ok", result.problems


@FAST
@given(text=yaml_text)
def test_random_yaml_text(project: Path, text: str) -> None:
    outcome(project, text.encode("utf-8", "surrogatepass"))


@FAST
@given(data=st.binary(max_size=300))
def test_random_bytes(project: Path, data: bytes) -> None:
    outcome(project, data)


@FAST
@given(data=document, flow=st.booleans(), unicode=st.booleans())
def test_random_documents(project: Path, data: Any, flow: bool, unicode: bool) -> None:
    outcome(project, dump(data, flow, unicode).encode())


@pytest.fixture(scope="module")
def budget() -> dict[str, float]:
    return {"spent": 0.0, "built": 0}


@SLOW
@given(data=plausible, unicode=st.booleans())
def test_random_documents_build(
    project: Path, budget: dict[str, float], data: Any, unicode: bool
) -> None:
    if budget["spent"] > BUILD_BUDGET:
        return
    started = time.perf_counter()
    out = project / "out"
    shutil.rmtree(out, ignore_errors=True)
    path = project / "content" / "fuzz.yaml"
    path.write_text(dump(data, False, unicode), encoding="utf-8")
    try:
        output = build_document(path, project=project, out_dir=out)
    except BriefingError as error:
        assert error.problems
        assert all(Path(p.path).name == "fuzz.yaml" for p in error.problems), error
        assert not out.exists() or not any(out.iterdir()), "a failed build left files"
    else:
        assert output.pdf.read_bytes().startswith(b"%PDF-")
        assert output.pages >= 2
        budget["built"] += 1
    finally:
        budget["spent"] += time.perf_counter() - started


def test_build_examples_ran(budget: dict[str, float]) -> None:
    """The budget must not silently turn the whole-build fuzzing into nothing."""
    assert budget["built"] >= 2, budget
