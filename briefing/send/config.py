"""The `[mail]` table of the project file `briefing.toml`: who the messages are from, and how
they are delivered.

```toml
[mail]
from = "Partnerships Team <partners@example.org>"   # required to send (and for a dry run)
reply_to = "help@example.org"                        # optional
signature = "The Partnerships Team"                  # optional, Markdown, below every body
host = "smtp.example.org"                            # SMTP server (default: localhost)
port = 587                                           # default: 587 starttls, 465 tls, 25 none
security = "starttls"                                # starttls (default), tls, or none
rate_limit = 30                                      # at most this many messages a minute
retries = 4                                          # attempts for a temporary failure
retry_delay = 2.0                                    # seconds before the first retry; doubles
timeout = 60                                         # seconds to wait for the server
```

Credentials are never here (a project file is content, shared and committed): they come from
the environment or a netrc file (see `smtp.py`). `security = "none"` is only allowed for a
server on this machine (a local relay, or the tests). Errors name the line of the key:
`briefing.toml:4: ...`. tomllib gives no positions, so the line is found by scanning the file
for the key inside its table; the general project-file loader can hand its `[mail]` table to
`mail_config` and keep these messages.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from briefing.errors import BriefingError, Problem

PROJECT_FILE = "briefing.toml"
SECURITY = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class MailConfig:
    sender: Address
    reply_to: Address | None = None
    signature: str = ""
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"
    #: messages a minute at most; 0: as fast as the server takes them
    rate_limit: float = 0.0
    retries: int = 4
    retry_delay: float = 2.0
    timeout: float = 60.0


_KEYS = {"from", "reply_to", "signature", "host", "port", "security", "rate_limit", "retries",
         "retry_delay", "timeout"}


def load_mail_config(project: Path, overrides: dict[str, Any] | None = None) -> MailConfig:
    """`briefing.toml`'s `[mail]` table, validated; a missing file or table is an error.
    `overrides`: keys given on the command line (host, port, ...), which win over the file."""
    path = project / PROJECT_FILE
    shown = PROJECT_FILE
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise BriefingError.at(shown, None, "no project file: sending needs a `[mail]` table "
                               "with at least `from` (see docs/sending.md)") from None
    except UnicodeDecodeError:
        raise BriefingError.at(shown, None, "the project file is not UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise BriefingError.at(shown, int(match.group(1)) if match else None,
                               f"not valid TOML: {exc}") from None
    table = data.get("mail")
    if not isinstance(table, dict):
        raise BriefingError.at(shown, None, "no `[mail]` table: sending needs at least "
                               "`from` (see docs/sending.md)")
    return mail_config({**table, **(overrides or {})}, text, shown, given=set(overrides or ()))


def key_line(text: str, table: str, key: str) -> int | None:
    """The line of `key = ...` inside `[table]` (or `table.key` / a dotted key elsewhere)."""
    current = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = re.match(r"^\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header.group(1).strip().strip('"')
            continue
        assignment = re.match(r'^([A-Za-z0-9_."-]+?)\s*=', line)
        if not assignment:
            continue
        name = assignment.group(1).replace('"', "")
        if (current == table and name == key) or name == f"{table}.{key}":
            return number
    for number, raw in enumerate(text.splitlines(), start=1):
        if re.match(rf"^\[\s*{re.escape(table)}\s*\]", raw.strip()):
            return number
    return None


def mail_config(table: dict[str, Any], text: str = "", shown: str = PROJECT_FILE,
                given: set[str] | None = None) -> MailConfig:
    """A `[mail]` table as parsed by tomllib; `text` (the file) is only for line numbers.
    Keys in `given` came from the command line, and their problems are shown as `--key`."""
    problems: list[Problem] = []

    def error(key: str, message: str) -> None:
        if given and key in given:
            problems.append(Problem("--" + key.replace("_", "-"), None, message))
        else:
            problems.append(Problem(shown, key_line(text, "mail", key), message))

    for key in table:
        if key not in _KEYS:
            error(key, f"unknown key `{key}` in [mail] (known: {', '.join(sorted(_KEYS))})")

    def text_of(key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            error(key, f"`{key}` must be text")
            return None
        return value

    def address(key: str) -> Address | None:
        value = text_of(key)
        if value is None:
            return None
        if any(c in value for c in "\r\n"):
            error(key, f"`{key}` must be one line")
            return None
        parsed = getaddresses([value])
        if len(parsed) != 1 or "@" not in parsed[0][1]:
            error(key, f"`{key}` must be one address, like `Name <someone@example.org>`, "
                  f"not `{value}`")
            return None
        name, addr = parsed[0]
        from email_validator import EmailNotValidError, validate_email

        try:
            checked = validate_email(addr, check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError as exc:
            error(key, f"`{addr}` is not a valid e-mail address: {exc}")
            return None
        assert checked.ascii_email is not None
        return Address(display_name=name, addr_spec=checked.ascii_email)

    def number(key: str, default: float, low: float, kind: type = float) -> float:
        value = table.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                kind is int and not isinstance(value, int)):
            error(key, f"`{key}` must be a {'whole ' if kind is int else ''}number")
            return default
        if value < low:
            error(key, f"`{key}` must be at least {low:g}")
            return default
        return float(value)

    sender = address("from")
    if "from" not in table:
        problems.append(Problem(shown, key_line(text, "mail", "from"),
                                "[mail] needs `from`, the sender of the messages"))
    reply_to = address("reply_to")
    signature = text_of("signature") or ""
    host = text_of("host") or "localhost"
    if any(c.isspace() for c in host) or not host:
        error("host", f"`host` must be a host name, not `{host}`")
    security = text_of("security") or "starttls"
    if security not in SECURITY:
        error("security", f"`security` must be one of {', '.join(SECURITY)}, not `{security}`")
        security = "starttls"
    elif security == "none" and host not in LOOPBACK:
        error("security", "`security = \"none\"` sends passwords and copies in the clear: "
              "only for a server on this machine (localhost)")
    port = int(number("port", DEFAULT_PORTS[security], 1, int))
    if port > 65535:
        error("port", "`port` must be at most 65535")
    rate_limit = number("rate_limit", 0.0, 0)
    retries = int(number("retries", 4, 1, int))
    retry_delay = number("retry_delay", 2.0, 0)
    timeout = number("timeout", 60.0, 0.1)
    if problems:
        raise BriefingError(problems)
    assert sender is not None
    return MailConfig(sender=sender, reply_to=reply_to, signature=signature, host=host,
                      port=port, security=security, rate_limit=rate_limit, retries=retries,
                      retry_delay=retry_delay, timeout=timeout)
