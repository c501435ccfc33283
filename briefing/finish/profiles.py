"""Output profiles: what a PDF is for. A profile is the last step of a build, from the merged
PDF's bytes to the bytes written out, so documents and packs share it.

- `screen` (the default): images downsampled to 150 dpi and recompressed, identical objects
  shared; links, outline and labels as they were.
- `email`: as `screen`, and the result must fit a size budget (5 MB unless told otherwise);
  over it, the build fails naming the largest contributors.
- `print`: blank pages so each document starts on a right-hand page, then 3 mm bleed and crop
  marks. The paper (A4, Letter, A5) is the one the pages were rendered on.
- `booklet`: A5 pages (render on A5) two-up on A4 landscape sheets in saddle-stitch order; the
  layout ends with an outside back cover, which stays the last page (blanks go before it).
- `handout`: 2 or 4 pages to a sheet of the chosen paper, in reading order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from briefing.errors import BriefingError
from briefing.finish.optimise import budget_message, optimise_for_screen, size_report
from briefing.options import EMAIL_BUDGET, check_profile
from briefing.render.html import PAPERS


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


def apply_profile(pdf: bytes, profile: str, *, shown: str, paper: str = "a4",
                  options: ProfileOptions | None = None,
                  starts: Sequence[int] | None = None, optimised: bool = False) -> bytes:
    """Turn a built PDF into what `profile` asks for. `shown` names the output in errors
    (the e-mail budget's message). `optimised`: its images were already optimised for the
    screen, part by part (`optimise_parts`), so only the budget is left to check."""
    check_profile(profile)
    options = options or ProfileOptions()
    if profile in ("screen", "email"):
        out = pdf if optimised else optimise_for_screen(pdf, dpi=options.dpi,
                                                        jpeg_quality=options.jpeg_quality)
        if profile == "email" and len(out) > options.budget:
            raise BriefingError.at(shown, None, budget_message(
                None, len(out), options.budget, size_report(out)))
        return out
    if profile == "print":  # each profile imports only what it uses
        from briefing.finish.prepress import pad_for_duplex, print_marks

        return print_marks(pad_for_duplex(pdf, list(starts or options.starts)),
                           bleed_mm=options.bleed_mm)
    from briefing.finish.impose import booklet, n_up

    if profile == "booklet":
        return booklet(pdf, PAPERS["a4"], back_cover=True)  # the layout ends with one
    return n_up(pdf, options.handout_pages, PAPERS.get(paper, PAPERS["a4"]))
