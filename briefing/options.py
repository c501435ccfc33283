"""The settings of a build: one frozen value that travels with every job to every worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast, get_args

from briefing.errors import BriefingError

Profile = Literal["screen", "email", "print", "booklet", "handout"]
PaperName = Literal["a4", "letter", "a5"]

PROFILES: tuple[Profile, ...] = get_args(Profile)
PAPER_NAMES: tuple[PaperName, ...] = get_args(PaperName)
DEFAULT_PROFILE: Profile = "screen"
#: the profiles whose PDF is meant to be printed: its links cannot be clicked
PAPER_PROFILES: tuple[Profile, ...] = ("print", "booklet", "handout")
EMAIL_BUDGET = 5 * 1024 * 1024
"""The default e-mail size budget, 5 MB (of 1024 × 1024 bytes): base64 encoding adds a third,
which keeps the message under the common 7 to 10 MB limits of mail servers."""


def check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise BriefingError.at("--profile", None, f"unknown profile {profile!r}; choose one of "
                               + ", ".join(PROFILES))


def as_profile(profile: str) -> Profile:
    """A profile name from the user, checked."""
    check_profile(profile)
    return cast(Profile, profile)


def as_paper(paper: str) -> PaperName:
    """A paper name from the user, checked."""
    if paper not in PAPER_NAMES:
        raise BriefingError.at("--paper", None, f"unknown paper size {paper!r}; choose one of "
                               + ", ".join(PAPER_NAMES))
    return paper


def render_paper(profile: Profile, paper: PaperName) -> PaperName:
    """The paper to render the pages on: a booklet's pages are half its A4 sheet (A5)."""
    check_profile(profile)
    return "a5" if profile == "booklet" else paper


@dataclass(frozen=True)
class BuildOptions:
    paper: PaperName = "a4"
    strict: bool = False
    #: what the PDF is for: screen, email, print, booklet or handout (see finish/profiles.py)
    profile: Profile = DEFAULT_PROFILE
    email_budget: int = EMAIL_BUDGET
    #: tagged parts and one merged structure tree (PDF/UA-1, see assemble/tags.py)
    pdf_ua: bool = False
    #: PDF/A-3b, carrying the YAML sources as associated files (see finish/pdfa.py)
    pdf_a: bool = False
    #: a warm rebuild in a running process (the preview): parts whose HTML and fetched files
    #: are unchanged are reused, not laid out again (render/pdf.py)
    reuse: bool = False
    #: pages to a handout sheet: 2 or 4 (the `handout` profile)
    handout: int = 2
    #: where notes go in a document that does not say (`notes:`): `end` or `page`
    notes: str = "end"
    #: print each web link's address after its text; None: on paper profiles only (print,
    #: booklet, handout), where a reader cannot click (see docs/house-style.md)
    print_links: bool | None = None

    @property
    def links_on_paper(self) -> bool:
        if self.print_links is not None:
            return self.print_links
        return self.profile in PAPER_PROFILES

    @property
    def layout_paper(self) -> PaperName:
        """The paper pages are laid out on (a booklet's pages are A5, imposed on A4 later)."""
        return render_paper(self.profile, self.paper)
