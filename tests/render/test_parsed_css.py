"""render/parsed_css.py: a stylesheet parsed and validated once per process lays out as a
fresh parse does.

The builds run in a new interpreter, so the first one parses and validates every stylesheet
afresh and the second reuses every parse and validation; both must give the same bytes and the
same warnings. The project's stylesheet has the values WeasyPrint resolves from tokens at
layout time (calc, min, max, percentages, custom properties), where a parse shared between
layouts would show if WeasyPrint changed it, a declaration WeasyPrint ignores when it
validates it, and one it ignores only at layout, once its `var()` is known."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import MINIMAL, write_project

CUSTOM_CSS = """\
:root { --gap: calc(1em + 2px); }
.answer p { margin-left: calc(5% - 3px); padding-right: max(2%, 4px); }
h1 { letter-spacing: min(0.05em, 1px); margin-bottom: var(--gap); }
.question { width: calc(100% - 2 * var(--gap)); }
.answer { colr: red; --not-a-colour: 12px; }
.answer p { color: var(--not-a-colour); }
"""

TWICE = """
import json, sys
from pathlib import Path
import briefing, weasyprint, weasyprint.css
project = Path(sys.argv[1])
found, warnings, validated = [], [], []
for run in ("fresh", "reused"):
    result = briefing.build([project / "content" / "doc.yaml"], project=project,
                            out_dir=project / run)
    assert result.ok, result
    found.append((project / run / "doc.pdf").read_bytes().hex())
    warnings.append([w.message for o in result.outputs for w in o.warnings])
    validated.append(weasyprint.css.preprocess_declarations.cache_info())
info = weasyprint.tinycss2.cache_info()
print(json.dumps({"same": found[0] == found[1], "hits": info.hits, "misses": info.misses,
                  "warnings": warnings, "validated": validated}))
"""


def test_a_reused_parse_gives_the_same_bytes(tmp_path: Path) -> None:
    long_answer = MINIMAL.replace("A document made in a test.",
                                  "A document made in a test. " * 60)
    project = write_project(tmp_path / "project", {"content/doc.yaml": long_answer,
                                                   "styles/custom.css": CUSTOM_CSS})
    done = subprocess.run([sys.executable, "-c", TWICE, str(project)], capture_output=True,
                          text=True, timeout=180, check=True,
                          env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["misses"] >= 1  # the theme's stylesheets with the project's, parsed once
    assert found["hits"] >= found["misses"]  # ... and all of them reused by the second build
    assert found["same"] is True
    (first_hits, first_misses), (hits, _) = found["validated"]
    assert first_misses > 100  # every rule's declarations validated by the first build ...
    assert hits - first_hits >= first_misses - 30  # ... and reused by the second
    fresh, reused = found["warnings"]
    assert any("colr" in w for w in fresh)  # ignored while validating
    assert any("12px" in w for w in fresh)  # ignored at layout, its var() known
    assert reused == fresh


def test_only_weasyprints_css_sees_the_remembering_parse() -> None:
    import tinycss2
    import weasyprint

    from briefing.render.parsed_css import RememberingTinycss2, install_parsed_css

    remembering = install_parsed_css()
    assert install_parsed_css() is remembering  # installed once
    assert isinstance(weasyprint.tinycss2, RememberingTinycss2)
    assert tinycss2.parse_stylesheet is not remembering.parse_stylesheet
    first = remembering.parse_stylesheet("p { color: red }")
    second = remembering.parse_stylesheet("p { color: red }")
    assert first == second and first is not second  # the same rules, in a list of its own
    assert remembering.serialize(first) == "p { color: red }"  # the rest is tinycss2's
    import weasyprint.css

    assert weasyprint.css.tinycss2 is remembering  # the css package's rule blocks
    rule = first[0]
    block = remembering.parse_blocks_contents(rule.content, skip_whitespace=True)
    again = remembering.parse_blocks_contents(rule.content, skip_whitespace=True)
    assert block == again and block is not again and block[0] is again[0]
    assert block[0].type == "declaration"
    own = tinycss2.parse_blocks_contents(rule.content, skip_whitespace=True)
    assert own[0] is not block[0]  # tinycss2's own parse is not remembered
