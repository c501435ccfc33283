"""The finishing stage: the merged PDF becomes what its profile asks for, then PDF/A if asked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from briefing.assemble.pdfio import page_count
from briefing.errors import BriefingError
from briefing.finish.profiles import ProfileOptions, apply_profile
from briefing.options import BuildOptions

if TYPE_CHECKING:
    from briefing.finish.pdfa import Source


def optimise_parts(parts: Sequence[bytes], options: BuildOptions) -> dict[bytes, bytes]:
    """For many copies made of the same parts (a pack's recipients): the screen and e-mail
    profiles' image work done once per part, by content, instead of once per copy; then
    `finish(..., optimised=True)`. Other profiles work on the whole file: nothing to do."""
    if options.profile not in ("screen", "email"):
        return {}
    from briefing.finish.optimise import optimise_for_screen

    return {pdf: optimise_for_screen(pdf) for pdf in dict.fromkeys(parts)}


def finish(pdf: bytes, options: BuildOptions, shown: str, starts: Sequence[int],
           sources: Sequence[Source] = (), optimised: bool = False,
           pages: int | None = None) -> tuple[bytes, int]:
    """The profile's last step on a merged PDF, and the page count of the result;
    `starts` are the pages that begin a document (for duplex printing). With `pdf_a`,
    the result is then made PDF/A-3b carrying `sources`. `pages`, the page count of `pdf`
    when the caller knows it, spares reading a file the profile returned as it was (a pack's
    copies) to count them."""
    knobs = ProfileOptions(budget=options.email_budget, handout_pages=options.handout)
    out = apply_profile(pdf, options.profile, shown=shown, paper=options.paper,
                        options=knobs, starts=starts, optimised=optimised)
    if options.pdf_a:
        from briefing.finish.pdfa import archival, over_budget

        out = archival(out, sources=sources, shown=shown)
        if options.profile == "email":
            over_budget(out, options.email_budget, shown)
    return out, pages if out is pdf and pages is not None else page_count(out)


def check_budget(pdf: bytes, options: BuildOptions, shown: str) -> None:
    """The e-mail profile's size budget on a file made without `finish` (a pack's copy
    written as an update of its finished template)."""
    if options.profile == "email" and len(pdf) > options.email_budget:
        from briefing.finish.optimise import budget_message, size_report

        raise BriefingError.at(shown, None, budget_message(None, len(pdf), options.email_budget,
                                                           size_report(pdf)))
