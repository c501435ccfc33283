"""The send log: which message each address has been sent, so no one gets a copy twice.

`out/packs/<pack>/send-log.json`, beside the copies. One entry per accepted message: the
address, the name, the copy's file, the Message-ID, the server's reply and the SHA-256 of the
attachment. It is rewritten (write_atomic: a temporary file renamed into place, on disk before
the next message goes) right after the server accepts each message, so a crash, a Ctrl-C or a
dropped connection at any point leaves a log that lists exactly what was accepted: a re-run
skips those and sends the rest. A copy whose hash differs from the logged one changed since it
was sent: it is reported, and sent again only when asked (`--resend-changed`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from briefing.errors import BriefingError, shown_path
from briefing.output import write_atomic

LOG_NAME = "send-log.json"
VERSION = 1


@dataclass(frozen=True)
class Sent:
    address: str
    name: str
    file: str
    message_id: str
    #: the server's reply to the message's data, e.g. "250 2.0.0 Ok: queued as 4F2A1"
    reply: str
    attachment_sha256: str
    #: UTC, ISO 8601
    sent_at: str


@dataclass(frozen=True)
class SendLog:
    path: Path
    pack: str
    entries: tuple[Sent, ...] = ()

    def find(self, address: str) -> Sent | None:
        key = address.lower()
        return next((e for e in self.entries if e.address.lower() == key), None)

    def with_entry(self, entry: Sent) -> SendLog:
        """This log with `entry` added, or replacing the entry of the same address."""
        kept = tuple(e for e in self.entries if e.address.lower() != entry.address.lower())
        return replace(self, entries=(*kept, entry))


def read_log(path: Path, pack: str) -> SendLog:
    """The log at `path`, or an empty one; a damaged log is an error, never silently reset
    (that would send everyone their copy again)."""
    shown = shown_path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return SendLog(path, pack)
    try:
        data = json.loads(raw.decode("utf-8"))
        if data.get("version") != VERSION:
            raise ValueError(f"unknown version {data.get('version')!r}")
        entries = tuple(Sent(**entry) for entry in data["sent"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BriefingError.at(shown, None, f"the send log cannot be read ({exc}); it records "
                               "who has been sent their copy, so it is never reset "
                               "automatically: repair it, or move it away to send to everyone "
                               "again") from None
    return SendLog(path, data.get("pack", pack), entries)


def write_log(log: SendLog) -> None:
    data = {"version": VERSION, "pack": log.pack, "sent": [asdict(e) for e in log.entries]}
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    write_atomic(log.path, text.encode("utf-8"))
