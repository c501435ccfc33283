"""render/parsed_css.py: a stylesheet parsed once per process lays out as a fresh parse does.

The builds run in a new interpreter, so the first one parses every stylesheet afresh and the
second reuses every parse; both must give the same bytes. The project's stylesheet has the
values WeasyPrint resolves from tokens at layout time (calc, min, max, percentages, custom
properties), where a parse shared between layouts would show if WeasyPrint changed it."""

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
"""

TWICE = """
import json, sys
from pathlib import Path
import briefing, weasyprint
project = Path(sys.argv[1])
found = []
for run in ("fresh", "reused"):
    result = briefing.build([project / "content" / "doc.yaml"], project=project,
                            out_dir=project / run)
    assert result.ok, result
    found.append((project / run / "doc.pdf").read_bytes().hex())
info = weasyprint.tinycss2.cache_info()
print(json.dumps({"same": found[0] == found[1], "hits": info.hits, "misses": info.misses}))
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
