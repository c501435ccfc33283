"""How a batch is built: the same settings travel with every job to every worker."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .profiles import DEFAULT_PROFILE, EMAIL_BUDGET, ProfileOptions, apply_profile, render_paper

if TYPE_CHECKING:
    from .archive import Source


@dataclass(frozen=True)
class BuildOptions:
    paper: str = "a4"
    strict: bool = False
    #: what the PDF is for: screen, email, print, booklet or handout (see profiles.py)
    profile: str = DEFAULT_PROFILE
    email_budget: int = EMAIL_BUDGET
    #: tagged parts and one merged structure tree (PDF/UA-1, see structure.py)
    pdf_ua: bool = False
    #: PDF/A-3b, carrying the YAML sources as associated files (see archive.py)
    pdf_a: bool = False

    @property
    def layout_paper(self) -> str:
        """The paper pages are laid out on (a booklet's pages are A5, imposed on A4 later)."""
        return render_paper(self.profile, self.paper)

    def finish(self, pdf: bytes, shown: str, starts: Sequence[int],
               sources: Sequence[Source] = ()) -> tuple[bytes, int]:
        """The profile's last step on a merged PDF, and the page count of the result;
        `starts` are the pages that begin a document (for duplex printing). With `pdf_a`,
        the result is then made PDF/A-3b carrying `sources`."""
        from pypdf import PdfReader

        out = apply_profile(pdf, self.profile, shown=shown, paper=self.paper,
                            options=ProfileOptions(budget=self.email_budget), starts=starts)
        if self.pdf_a:
            from .archive import archival, over_budget

            out = archival(out, sources=sources, shown=shown)
            if self.profile == "email":
                over_budget(out, self.email_budget, shown)
        return out, len(PdfReader(io.BytesIO(out)).pages)
