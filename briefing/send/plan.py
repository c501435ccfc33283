"""What `briefing send` would do: each recipient, their built copy, their message, and whether
it is to be sent, was sent already, or changed since it was sent.

Everything that can be checked without a server is checked here, before anything is sent: the
pack names a message, every recipient has an address, every copy exists and is newer than the
pack's sources, every copy fits the e-mail budget. A dry run is this plan written out as
`.eml` files beside the copies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from briefing.errors import BriefingError, Problem, shown_path
from briefing.jobs.pack import copy_files
from briefing.options import EMAIL_BUDGET
from briefing.output import write_atomic
from briefing.send.config import MailConfig
from briefing.send.log import LOG_NAME, SendLog, Sent, read_log
from briefing.send.message import Outgoing, build_message
from briefing.source.pack import Pack

#: to send; already sent (same copy, skipped); the copy changed since it was sent (reported,
#: sent again only with `resend_changed`); the copy is larger than the e-mail budget
STATUSES = ("to send", "already sent", "changed since sent", "over budget")


@dataclass(frozen=True)
class Planned:
    outgoing: Outgoing
    status: str
    logged: Sent | None
    eml: Path


@dataclass(frozen=True)
class SendPlan:
    pack: Pack
    folder: Path
    log: SendLog
    planned: tuple[Planned, ...]
    budget: int

    def with_status(self, status: str) -> list[Planned]:
        return [p for p in self.planned if p.status == status]


def plan_send(pack: Pack, *, out_dir: Path, config: MailConfig, budget: int = EMAIL_BUDGET,
              resend_changed: bool = False) -> SendPlan:
    """The plan, or a BriefingError listing every reason none of it can go yet."""
    problems: list[Problem] = []
    if pack.message is None:
        problems.append(Problem(pack.shown, None, "the pack names no `message` to send "
                                "(a `message:` with `subject` and `body`; see docs/sending.md)"))
    if not pack.recipients:
        problems.append(Problem(pack.shown, None, "the pack has no `recipients` to send to"))
    if problems:
        raise BriefingError(problems)
    assert pack.message is not None and pack.recipients_path is not None
    recipients_shown = shown_path(pack.recipients_path)
    for recipient in pack.recipients:
        if not recipient.email:
            problems.append(Problem(recipients_shown, recipient.line,
                                    f"{recipient.name} has no `email`"))
    copies = copy_files(pack, out_dir)
    sources = [pack.path, pack.recipients_path, *(item.path for item in pack.items)]
    if pack.cover is not None:
        sources.append(pack.cover)
    newest = max((_mtime(p) for p in sources), default=0.0)
    build_hint = f"build the pack first: briefing build --profile email {pack.shown}"
    missing = [c for c in copies if not c.is_file()]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        problems.append(Problem(shown_path(missing[0]), None,
                                f"no such copy{more}; {build_hint}"))
    else:
        stale = [c for c in copies if _mtime(c) < newest]
        if stale:
            more = f" (as are {len(stale) - 1} more)" if len(stale) > 1 else ""
            problems.append(Problem(shown_path(stale[0]), None,
                                    f"older than the pack's sources{more}; {build_hint}"))
    if problems:
        raise BriefingError(problems)
    folder = copies[0].parent
    log = read_log(folder / LOG_NAME, pack.name)
    date = float(os.environ["SOURCE_DATE_EPOCH"]) if os.environ.get(
        "SOURCE_DATE_EPOCH", "").isdigit() else None
    planned = []
    for recipient, copy in zip(pack.recipients, copies, strict=True):
        outgoing = build_message(pack.message, recipient, copy, config, pack.name, date,
                                 recipients_shown)
        logged = log.find(outgoing.address)
        if outgoing.attachment_size > budget:
            status = "over budget"
        elif logged is None:
            status = "to send"
        elif logged.attachment_sha256 == outgoing.attachment_sha256:
            status = "already sent"
        else:
            status = "to send" if resend_changed else "changed since sent"
        planned.append(Planned(outgoing, status, logged, copy.with_suffix(".eml")))
    return SendPlan(pack, folder, log, tuple(planned), budget)


def write_eml(plan: SendPlan) -> list[Path]:
    """Every recipient's message as a standard .eml file beside their copy (a dry run)."""
    written = []
    for planned in plan.planned:
        write_atomic(planned.eml, planned.outgoing.as_bytes())
        written.append(planned.eml)
    return written


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
