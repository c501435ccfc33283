"""Sending a pack: each recipient's built copy e-mailed to that recipient, never twice.

plan.py decides what to send (and checks all it can first), message.py builds each e-mail,
log.py remembers what the server accepted, smtp.py delivers with retries. `send_pack` is the
whole of `briefing send`: a dry run (the default) writes `.eml` files; `deliver=True` sends
what the log does not list yet. See docs/sending.md.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from briefing.errors import BriefingError, shown_path
from briefing.options import EMAIL_BUDGET
from briefing.send.config import MailConfig, load_mail_config
from briefing.send.plan import SendPlan, plan_send, write_eml
from briefing.send.smtp import Attempted, DeliveryResult, deliver, find_credentials
from briefing.source.load import load
from briefing.source.pack import Pack, is_pack, validate_pack


@dataclass(frozen=True)
class SendReport:
    plan: SendPlan
    config: MailConfig
    #: None for a dry run
    delivery: DeliveryResult | None = None
    eml: tuple[Path, ...] = ()

    @property
    def ok(self) -> bool:
        """Nothing is left that should have gone: every copy fits, nothing changed unsent, and
        (when delivering) nothing failed and sending did not stop."""
        if self.plan.with_status("over budget") or self.plan.with_status("changed since sent"):
            return False
        if self.delivery is None:
            return True
        return self.delivery.stopped is None and not any(
            a.outcome == "failed" for a in self.delivery.attempted)


def load_pack(path: Path, project: Path) -> Pack:
    shown = shown_path(path)
    loaded = load(path, shown)
    if not is_pack(loaded):
        raise BriefingError.at(shown, None, "not a pack file (a pack has `items`)")
    return validate_pack(loaded, project, shown)


def send_pack(path: Path, *, project: Path, out_dir: Path | None = None, deliver_now: bool = False,
              budget: int | None = None, resend_changed: bool = False,
              overrides: dict[str, Any] | None = None,
              context: ssl.SSLContext | None = None,
              sleep: Callable[[float], None] | None = None,
              on_attempted: Callable[[Attempted], None] | None = None) -> SendReport:
    """`overrides`: [mail] keys given on the command line (host, port, security, rate_limit),
    validated as if they were in the file."""
    pack = load_pack(path, project)
    config = load_mail_config(project, overrides)
    plan = plan_send(pack, out_dir=out_dir or project / "out", config=config,
                     budget=budget or EMAIL_BUDGET, resend_changed=resend_changed)
    if not deliver_now:
        return SendReport(plan, config, None, tuple(write_eml(plan)))
    credentials = find_credentials(config.host)
    chosen = [p.outgoing for p in plan.with_status("to send")]
    result = deliver(chosen, config, plan.log, credentials=credentials, context=context,
                     on_attempted=on_attempted, sleep=sleep or time.sleep)
    return SendReport(replace(plan, log=result.log), config, result)
