"""The seed document: the whole CLI process against a bare WeasyPrint process rendering the
same document's body HTML (the yardstick the issue sets: the body is what must be laid out).

Interleaved runs, CPU time from wait4, medians of N pairs (default 12):

    .venv/bin/python bench/bench_seed.py [PAIRS]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import BIN, REPO, interleaved

BARE = """
import sys
import weasyprint
html = open(sys.argv[1], encoding="utf-8").read()
weasyprint.HTML(string=html, base_url=sys.argv[2]).write_pdf()
"""


def body_html(out: Path) -> Path:
    sys.path.insert(0, str(REPO))
    from briefing.render.html import PAPERS, body_html
    from briefing.render.theme import theme_for
    from briefing.source.prepare import prepare

    composed = prepare(REPO / "content" / "cambodia-faq.yaml", REPO)
    html = out / "body.html"
    # the body as the CLI lays it out: its notes flow on after it in the same layout
    html.write_text(body_html(composed, theme_for(REPO), PAPERS["a4"], first_page=1,
                              notes_follow=bool(composed.notes)), encoding="utf-8")
    return html


def main() -> None:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        script = out / "bare.py"
        script.write_text(BARE, encoding="utf-8")
        html = body_html(out)
        found = interleaved({
            "cli": [str(BIN / "briefing"), "build", "content/cambodia-faq.yaml", "-j", "1",
                    "--out", str(out / "built")],
            "bare": [sys.executable, str(script), str(html),
                     (REPO / "content").as_uri() + "/"],
        }, pairs, REPO)
    (cli, cli_peak), (bare, bare_peak) = found["cli"], found["bare"]
    print(f"seed, whole CLI process (-j 1), CPU:       {cli:6.3f} s   peak {cli_peak:5.0f} MB")
    print(f"bare WeasyPrint process, body HTML, CPU:   {bare:6.3f} s   peak {bare_peak:5.0f} MB")
    print(f"ratio CLI / bare (target <= 1.10):         {cli / bare:6.2f}   (median of {pairs})")


if __name__ == "__main__":
    main()
