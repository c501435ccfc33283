"""Render the README's gallery from the current build: the seed's cover and a body page, the
partner pack's contents page and a booklet sheet, as small PNGs under docs/gallery/.

    python scripts/gallery.py            (from the repository root; needs pdftoppm)

The pictures are rendered, never drawn by hand, so they show what a build gives today.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GALLERY = REPO / "docs" / "gallery"
#: dots per inch of the pictures: small enough to commit, large enough to see the layout
DPI = 50

#: (picture, build arguments, the output's path in the build folder, its page)
PICTURES = (
    ("cover.png", ("content/cambodia-faq.yaml",), "cambodia-faq.pdf", 1),
    ("body.png", ("content/cambodia-faq.yaml",), "cambodia-faq.pdf", 2),
    ("pack-contents.png", ("content/packs/partner-briefing.yaml",),
     "packs/partner-briefing/alex-example.pdf", 2),
    ("booklet-sheet.png", ("--profile", "booklet", "content/cambodia-faq.yaml"),
     "cambodia-faq.pdf", 1),
)


def briefing(*args: str, out: Path) -> None:
    exe = shutil.which("briefing") or str(Path(sys.executable).parent / "briefing")
    subprocess.run([exe, "build", "-j", "1", "--out", str(out), *args], cwd=REPO, check=True,
                   capture_output=True, text=True)


def page_png(pdf: Path, page: int, target: Path) -> None:
    stem = target.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-f", str(page), "-l", str(page),
                    "-singlefile", str(pdf), str(stem)], check=True)


def main() -> None:
    GALLERY.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        builds: dict[tuple[str, ...], Path] = {}
        for name, args, output, page in PICTURES:
            if args not in builds:
                builds[args] = Path(folder) / str(len(builds))
                briefing(*args, out=builds[args])
            page_png(builds[args] / output, page, GALLERY / name)
            print(f"docs/gallery/{name}")


if __name__ == "__main__":
    main()
