"""The seed document: the whole CLI process against a bare WeasyPrint process rendering the
same document's body HTML (the yardstick the issue sets: the body is what must be laid out),
and against one rendering the whole document's HTML as the CLI lays it out (cover, body,
notes, running header and footer: what is left is briefing's own cost), and against a bare
process that imports WeasyPrint the way briefing does (render/libraries.py: without searching
for its native libraries), so the head start that gives is shown apart.

Interleaved runs, CPU time from wait4, medians of N pairs (default 12):

    .venv/bin/python bench/bench_seed.py [PAIRS]
"""

from __future__ import annotations

import subprocess
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
#: the same, WeasyPrint imported as briefing imports it (render/libraries.py: its native
#: libraries opened by soname, without ldconfig and gcc searches): the CLI's head start
BARE_BY_SONAME = BARE.replace("import weasyprint\n", """import ctypes.util
searching = ctypes.util.find_library
ctypes.util.find_library = lambda name: None
import weasyprint
ctypes.util.find_library = searching
""", 1)


def yardsticks(out: Path) -> None:
    """The seed's body HTML as the issue's yardstick has it (the body with its notes after
    it, without the header and footer), and the whole document's HTML as the CLI lays it out
    (cover, body, notes, header and footer in one layout: jobs/document.py)."""
    sys.path.insert(0, str(REPO))
    from briefing.jobs.document import lay_out_document
    from briefing.jobs.parts import Renderer
    from briefing.render import html as rendering
    from briefing.render.theme import theme_for
    from briefing.source.prepare import prepare

    composed = prepare(REPO / "content" / "cambodia-faq.yaml", REPO)
    theme = theme_for(REPO)
    body = out / "body.html"
    body.write_text(rendering.body_html(composed, theme, rendering.PAPERS["a4"], first_page=1,
                                        notes_follow=bool(composed.notes)), encoding="utf-8")
    document = out / "document.html"
    real = rendering.document_html

    def keep(*args: object, **kwargs: object) -> str | None:
        html = real(*args, **kwargs)  # type: ignore[arg-type]
        document.write_text(html or "", encoding="utf-8")
        return html

    rendering.document_html = keep  # type: ignore[assignment]
    import briefing.jobs.document as documents
    documents.document_html = keep  # type: ignore[assignment]
    lay_out_document(composed, Renderer(REPO, theme), rendering.PAPERS["a4"])


def main() -> None:
    if sys.argv[1:2] == ["--yardsticks"]:  # in a process of its own: see below
        yardsticks(Path(sys.argv[2]))
        return
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    # the package's bytecode, as an install has it: WeasyPrint's is compiled at install time,
    # and where PYTHONDONTWRITEBYTECODE is set (this machine) a development install would
    # otherwise compile briefing's modules again in every run (about 0.17 s)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "briefing")],
                   check=True)
    # and the built-in templates, as `make pdf` compiles them first (render/precompile.py)
    subprocess.run([sys.executable, "-m", "briefing.render.precompile"], check=True,
                   stdout=subprocess.DEVNULL, cwd=REPO)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        script = out / "bare.py"
        script.write_text(BARE, encoding="utf-8")
        by_soname = out / "bare_by_soname.py"
        by_soname.write_text(BARE_BY_SONAME, encoding="utf-8")
        # written by another process: Linux counts a child's memory before its exec in its
        # peak, so this one stays small
        subprocess.run([sys.executable, __file__, "--yardsticks", str(out)], check=True)
        base = (REPO / "content").as_uri() + "/"
        found = interleaved({
            "cli": [str(BIN / "briefing"), "build", "content/cambodia-faq.yaml", "-j", "1",
                    "--out", str(out / "built")],
            "bare": [sys.executable, str(script), str(out / "body.html"), base],
            "document": [sys.executable, str(script), str(out / "document.html"), base],
            "by soname": [sys.executable, str(by_soname), str(out / "body.html"), base],
        }, pairs, REPO)
    rows = [("seed, whole CLI process (-j 1)", *found["cli"]),
            ("bare WeasyPrint process, body HTML", *found["bare"]),
            ("bare WeasyPrint, the CLI's document HTML", *found["document"]),
            ("bare, body HTML, libraries by soname", *found["by soname"])]
    for what, cpu, peak in rows:
        print(f"{what + ', CPU:':48s} {cpu:6.3f} s   peak {peak:5.0f} MB")
    cli, bare, whole = found["cli"][0], found["bare"][0], found["document"][0]
    print(f"{'ratio CLI / bare body (target <= 1.10):':48s} {cli / bare:6.2f}   "
          f"(median of {pairs})")
    print(f"{'ratio CLI / bare document (briefing alone):':48s} {cli / whole:6.2f}")
    print(f"{'ratio CLI / bare body, same library loading:':48s} "
          f"{cli / found['by soname'][0]:6.2f}")


if __name__ == "__main__":
    main()
