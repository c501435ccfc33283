"""Delivering the messages over SMTP (the standard library's smtplib), one after another.

Every message is its own SMTP transaction (MAIL, RCPT, DATA) on one connection, reopened
when it drops. What can go wrong, and what happens:

- a temporary failure: a 4xx reply, a dropped or refused connection, a timeout. The message is
  tried again after `retry_delay` seconds, doubling each time, up to `retries` attempts; then
  it is reported as failed and the others go on.
- a permanent refusal, a 5xx reply for one address: reported as failed at once (trying again
  would be refused again); the others go on.
- what no retry can mend and every message would meet: the certificate is not trusted, the
  server offers no STARTTLS, the credentials are refused or missing where the server needs
  them. Sending stops; what was sent stays sent (it is in the log).

Credentials come from the environment (`BRIEFING_SMTP_USER` and `BRIEFING_SMTP_PASSWORD`) or
else a netrc file (`$NETRC`, or `~/.netrc`) entry for the host; never from content or the
command line, where they would be committed or seen in `ps`. TLS is always verified with the
system's trust store (`SSL_CERT_FILE` names another CA bundle, as OpenSSL reads it).
"""

from __future__ import annotations

import netrc
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from briefing.errors import BriefingError, Problem
from briefing.send.config import MailConfig
from briefing.send.log import SendLog, Sent, write_log
from briefing.send.message import Outgoing

USER_VARIABLE = "BRIEFING_SMTP_USER"
PASSWORD_VARIABLE = "BRIEFING_SMTP_PASSWORD"


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str
    #: where they came from, for messages ("the environment", "~/.netrc")
    origin: str


def find_credentials(host: str, environ: Mapping[str, str] | None = None) -> Credentials | None:
    """The environment's pair wins; else the netrc entry of `host` (or its `default`)."""
    env = os.environ if environ is None else environ
    user, password = env.get(USER_VARIABLE), env.get(PASSWORD_VARIABLE)
    if user or password:
        if not (user and password):
            missing = PASSWORD_VARIABLE if user else USER_VARIABLE
            raise BriefingError.at(missing, None, f"{USER_VARIABLE} and {PASSWORD_VARIABLE} are "
                                   f"set together; {missing} is not set")
        return Credentials(user, password, "the environment")
    file = Path(env["NETRC"]) if env.get("NETRC") else Path.home() / ".netrc"
    if not file.is_file():
        return None
    try:
        entry = netrc.netrc(str(file)).authenticators(host)
    except netrc.NetrcParseError as exc:
        raise BriefingError.at(str(file), exc.lineno, f"cannot read: {exc.msg}") from None
    except OSError as exc:
        raise BriefingError.at(str(file), None, f"cannot read: {exc.strerror or exc}") from None
    if entry is None or not entry[0] or entry[2] is None:
        return None
    return Credentials(entry[0], entry[2], str(file))


class TemporaryFailure(Exception):
    """Worth another try later: 4xx, a dropped connection, a timeout."""


class Unreachable(TemporaryFailure):
    """The connection could not be opened: after the last retry, every other message would
    fail the same way, so sending stops."""


class PermanentFailure(Exception):
    """This message will never be accepted as it is: a 5xx for it."""


class Stop(Exception):
    """No message can go until a person changes something (trust, credentials, server)."""


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(message.split())}"


def _refused(code: int, text: bytes | str, what: str) -> Exception:
    reply = _reply(code, text)
    if code in (530, 535, 538):
        return Stop(f"the server wants authentication ({reply}): set {USER_VARIABLE} and "
                    f"{PASSWORD_VARIABLE}, or a netrc entry for the host")
    if 400 <= code < 500:
        return TemporaryFailure(f"{what}: {reply}")
    return PermanentFailure(f"{what}: {reply}")


class Connection:
    """One SMTP session, opened on first use and again after it drops."""

    def __init__(self, config: MailConfig, credentials: Credentials | None,
                 context: ssl.SSLContext | None = None):
        self.config = config
        self.credentials = credentials
        self.context = context or ssl.create_default_context()
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> smtplib.SMTP:
        if self.smtp is not None:
            return self.smtp
        config = self.config
        where = f"{config.host}:{config.port}"
        smtp: smtplib.SMTP | None = None
        try:
            if config.security == "tls":
                smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                        context=self.context)
            else:
                smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
            smtp.ehlo()
            if config.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise Stop(f"{where} does not offer STARTTLS; the copies and the password "
                               "would go in the clear (set `security` in [mail])")
                smtp.starttls(context=self.context)
                smtp.ehlo()
            if self.credentials is not None:
                if not smtp.has_extn("auth"):
                    raise Stop(f"{where} does not offer authentication, but credentials are "
                               f"set (from {self.credentials.origin})")
                smtp.login(self.credentials.user, self.credentials.password)
        except ssl.SSLCertVerificationError as exc:
            self._drop(smtp)
            raise Stop(f"the certificate of {where} is not trusted: {exc.verify_message}"
                       " (SSL_CERT_FILE names another CA bundle)") from None
        except smtplib.SMTPAuthenticationError as exc:
            self._drop(smtp)
            origin = self.credentials.origin if self.credentials else "nowhere"
            raise Stop(f"{where} refused the credentials from {origin}: "
                       f"{_reply(exc.smtp_code, exc.smtp_error)}") from None
        except smtplib.SMTPResponseException as exc:
            self._drop(smtp)
            raise _refused(exc.smtp_code, exc.smtp_error, f"connecting to {where}") from None
        except (Stop, TemporaryFailure):
            self._drop(smtp)
            raise
        except (OSError, smtplib.SMTPException) as exc:  # refused, dropped, timed out
            self._drop(smtp)
            raise Unreachable(f"connecting to {where}: {exc or type(exc).__name__}") from None
        self.smtp = smtp
        return smtp

    def send(self, outgoing: Outgoing) -> str:
        """One transaction; the server's reply to the data when it accepts the message."""
        smtp = self.open()
        try:
            code, text = smtp.mail(self.config.sender.addr_spec)
            if code != 250:
                raise _refused(code, text, "sender refused")
            code, text = smtp.rcpt(outgoing.address)
            if code not in (250, 251):
                raise _refused(code, text, f"{outgoing.address} refused")
            code, text = smtp.data(outgoing.as_bytes())
            if code != 250:
                raise _refused(code, text, "message refused")
            return _reply(code, text)
        except (TemporaryFailure, PermanentFailure, Stop):
            self._reset()
            raise
        except smtplib.SMTPResponseException as exc:  # data() raises on a reply to DATA itself
            self._reset()
            raise _refused(exc.smtp_code, exc.smtp_error, "message refused") from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TemporaryFailure(f"connection lost: {exc or type(exc).__name__}") from None

    def _reset(self) -> None:
        """RSET after a refusal, so the next transaction starts clean; a dropped connection is
        simply reopened next time."""
        if self.smtp is None:
            return
        try:
            self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    @staticmethod
    def _drop(smtp: smtplib.SMTP | None) -> None:
        if smtp is not None:
            smtp.close()


@dataclass(frozen=True)
class Attempted:
    outgoing: Outgoing
    #: "sent" or "failed"
    outcome: str
    #: the server's reply (sent) or what went wrong (failed)
    detail: str
    attempts: int


@dataclass(frozen=True)
class DeliveryResult:
    log: SendLog
    attempted: tuple[Attempted, ...]
    #: why sending stopped before the end (the rest were not tried), if it did
    stopped: Problem | None = None


def deliver(messages: list[Outgoing], config: MailConfig, log: SendLog, *,
            credentials: Credentials | None, context: ssl.SSLContext | None = None,
            sleep: Callable[[float], None] = time.sleep,
            clock: Callable[[], float] = time.monotonic,
            on_attempted: Callable[[Attempted], None] | None = None) -> DeliveryResult:
    """Send each message in order; the log is written after each one the server accepts."""
    connection = Connection(config, credentials, context)
    interval = 60.0 / config.rate_limit if config.rate_limit else 0.0
    last_start: float | None = None
    attempted: list[Attempted] = []
    stopped: Problem | None = None
    try:
        for outgoing in messages:
            outcome, detail, attempts = "failed", "", 0
            unreachable = False
            for attempt in range(config.retries):
                if interval and last_start is not None:
                    sleep(max(0.0, last_start + interval - clock()))
                last_start = clock()
                attempts = attempt + 1
                try:
                    detail = connection.send(outgoing)
                    outcome = "sent"
                    break
                except TemporaryFailure as failure:
                    unreachable = isinstance(failure, Unreachable)
                    detail = f"{failure} (after {attempts} attempt{'s' * (attempts > 1)})"
                    if attempt + 1 < config.retries:
                        sleep(config.retry_delay * 2 ** attempt)
                except PermanentFailure as failure:
                    detail = str(failure)
                    break
            if unreachable and outcome == "failed":
                raise Stop(detail)
            if outcome == "sent":
                log = log.with_entry(Sent(
                    address=outgoing.address, name=outgoing.recipient.name,
                    file=outgoing.copy.name, message_id=outgoing.message_id, reply=detail,
                    attachment_sha256=outgoing.attachment_sha256,
                    sent_at=datetime.now(UTC).isoformat(timespec="seconds"),
                ))
                write_log(log)
            result = Attempted(outgoing, outcome, detail, attempts)
            attempted.append(result)
            if on_attempted is not None:
                on_attempted(result)
    except Stop as stop:
        stopped = Problem(f"{config.host}:{config.port}", None, str(stop))
    finally:
        connection.close()
    return DeliveryResult(log, tuple(attempted), stopped)
