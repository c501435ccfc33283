"""The finishing stage: the merged PDF becomes what its profile asks for, then PDF/A if asked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from briefing.assemble.pdfio import page_count
from briefing.finish.profiles import ProfileOptions, apply_profile
from briefing.options import BuildOptions

if TYPE_CHECKING:
    from briefing.finish.pdfa import Source


def finish(pdf: bytes, options: BuildOptions, shown: str, starts: Sequence[int],
           sources: Sequence[Source] = (), plain: bool = False,
           pages: int | None = None) -> tuple[bytes, int]:
    """The profile's last step on a merged PDF, and the page count of the result;
    `starts` are the pages that begin a document (for duplex printing). With `pdf_a`,
    the result is then made PDF/A-3b carrying `sources`. `plain`: nothing in it for the
    screen profile to optimise (known from its parts); `pages`: the page count of `pdf`, when
    known, so a file the profile returns as it is is not read again to count them."""
    out = apply_profile(pdf, options.profile, shown=shown, paper=options.paper,
                        options=ProfileOptions(budget=options.email_budget), starts=starts,
                        plain=plain)
    if options.pdf_a:
        from briefing.finish.pdfa import archival, over_budget

        out = archival(out, sources=sources, shown=shown)
        if options.profile == "email":
            over_budget(out, options.email_budget, shown)
    return out, pages if out is pdf and pages is not None else page_count(out)
