"""Output profiles: what a PDF is for. A profile is the last step of a build, from the merged
PDF's bytes to the bytes written out, so documents and packs share it.

- `screen` (the default): images downsampled to 150 dpi and recompressed, identical objects
  shared; links, outline and labels as they were.
- `email`: as `screen`, and the result must fit a size budget (5 MB unless told otherwise);
  over it, the build fails naming the largest contributors.
- `print`: blank pages so each document starts on a right-hand page, then 3 mm bleed and crop
  marks. The paper (A4, Letter, A5) is the one the pages were rendered on.
- `booklet`: A5 pages (render on A5) two-up on A4 landscape sheets in saddle-stitch order.
- `handout`: 2 or 4 pages to a sheet of the chosen paper, in reading order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import BriefingError
from .html import PAPERS
from .impose import booklet, n_up
from .optimise import budget_message, optimise_for_screen, size_report
from .prepress import pad_for_duplex, print_marks

PROFILES = ("screen", "email", "print", "booklet", "handout")
DEFAULT_PROFILE = "screen"
EMAIL_BUDGET = 5 * 1024 * 1024
"""The default e-mail size budget, 5 MB (of 1024 × 1024 bytes): base64 encoding adds a third,
which keeps the message under the common 7 to 10 MB limits of mail servers."""


@dataclass(frozen=True)
class ProfileOptions:
    """The knobs of the profiles, with the defaults the issue names."""

    dpi: int = 150
    jpeg_quality: int = 80
    budget: int = EMAIL_BUDGET
    bleed_mm: float = 3.0
    handout_pages: int = 2
    starts: tuple[int, ...] = (0,)
    """First page index of each document in the PDF (a pack's items), for duplex blanks."""


def render_paper(profile: str, paper: str) -> str:
    """The paper to render the pages on: a booklet's pages are half its A4 sheet (A5)."""
    check_profile(profile)
    return "a5" if profile == "booklet" else paper


def check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise BriefingError.at("--profile", None, f"unknown profile {profile!r}; choose one of "
                               + ", ".join(PROFILES))


def apply_profile(pdf: bytes, profile: str, *, shown: str, paper: str = "a4",
                  options: ProfileOptions | None = None,
                  starts: Sequence[int] | None = None) -> bytes:
    """Turn a built PDF into what `profile` asks for. `shown` names the output in errors
    (the e-mail budget's message)."""
    check_profile(profile)
    options = options or ProfileOptions()
    if profile in ("screen", "email"):
        out = optimise_for_screen(pdf, dpi=options.dpi, jpeg_quality=options.jpeg_quality)
        if profile == "email" and len(out) > options.budget:
            raise BriefingError.at(shown, None, budget_message(
                None, len(out), options.budget, size_report(out)))
        return out
    if profile == "print":
        return print_marks(pad_for_duplex(pdf, list(starts or options.starts)),
                           bleed_mm=options.bleed_mm)
    if profile == "booklet":
        return booklet(pdf, PAPERS["a4"])
    return n_up(pdf, options.handout_pages, PAPERS.get(paper, PAPERS["a4"]))
