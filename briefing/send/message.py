"""One recipient's e-mail: the pack's message filled with their fields, as plain text and HTML,
with their copy of the pack attached.

The text part is the Markdown itself (Markdown reads well as text); the HTML part is that
Markdown rendered by markdown-it with raw HTML off, and each substituted value escaped for
Markdown first, so a field can never add markup, links or tags. The headers are built by the
`email` package (a header value with a line break raises there too, a second guard behind
the recipients check). The Message-ID is derived from the pack, the address and the
attachment's hash: should a message be accepted but the log not written (power cut in
between), the copy sent again has the same Message-ID, which mail systems treat as the same
message.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from pathlib import Path

from markdown_it import MarkdownIt

from briefing.errors import BriefingError
from briefing.send.config import MailConfig
from briefing.source.message import MessageTemplate, fill
from briefing.source.pack import LINE_BREAKS, Recipient

#: ASCII punctuation, each of which a backslash makes literal in CommonMark
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


@dataclass(frozen=True)
class Outgoing:
    """A built message and what the log and the summary need to know about it."""

    recipient: Recipient
    address: str
    copy: Path
    message: EmailMessage
    message_id: str
    attachment_sha256: str
    attachment_size: int

    def as_bytes(self) -> bytes:
        return self.message.as_bytes(policy=SMTP)


def markdown_escape(value: str) -> str:
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", value)


def render_html(markdown: str) -> str:
    """Markdown to HTML with raw HTML disabled: `<` in the source is shown, never parsed."""
    body = MarkdownIt("commonmark", {"html": False, "linkify": False}).render(markdown)
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n"
            f"<body>\n{body}</body></html>\n")


def message_id(pack_name: str, address: str, digest: str, sender: Address) -> str:
    token = hashlib.sha256(f"{pack_name}\0{address.lower()}\0{digest}".encode()).hexdigest()
    return f"<briefing.{token[:32]}@{sender.domain}>"


def build_message(template: MessageTemplate, recipient: Recipient, copy: Path,
                  config: MailConfig, pack_name: str, date: float | None = None,
                  recipients_shown: str = "recipients") -> Outgoing:
    """`date`: seconds since the epoch for the Date header (SOURCE_DATE_EPOCH in a dry run
    keeps .eml files reproducible); None: now."""
    assert recipient.email is not None
    data = copy.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    fields = dict(recipient.fields)
    subject = fill(template.subject, fields)
    if LINE_BREAKS.intersection(subject):
        raise BriefingError.at(recipients_shown, recipient.line, "a field used in the subject "
                               f"({template.subject.shown}:{template.subject.line}) carries a "
                               "line break; the subject must be one line")
    text = fill(template.body, fields).rstrip() + "\n"
    markdown = fill(template.body, fields, markdown_escape).rstrip() + "\n"
    if config.signature:
        text += "\n-- \n" + config.signature.rstrip() + "\n"
        markdown += "\n---\n\n" + config.signature.rstrip() + "\n"
    msg = EmailMessage(policy=SMTP)
    msg["From"] = config.sender
    msg["To"] = Address(display_name=recipient.name, addr_spec=recipient.email)
    if config.reply_to is not None:
        msg["Reply-To"] = config.reply_to
    msg["Subject"] = subject
    msg["Date"] = formatdate(date, usegmt=True)
    ident = message_id(pack_name, recipient.email, digest, config.sender)
    msg["Message-ID"] = ident
    msg["MIME-Version"] = "1.0"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(render_html(markdown), subtype="html", charset="utf-8",
                        cte="quoted-printable")
    msg.add_attachment(data, maintype="application", subtype="pdf", filename=copy.name)
    # boundaries from the Message-ID rather than random ones: the same message, the same bytes
    token = ident[len("<briefing."):][:24]
    for number, part in enumerate(msg.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_briefing_{token}_{number}")
    return Outgoing(recipient, recipient.email, copy, msg, ident, digest, len(data))
