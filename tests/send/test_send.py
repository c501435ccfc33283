"""`briefing send`: each recipient's copy e-mailed to that recipient, never twice.

The pack is built once for the module; every test sends from its own copy of that project to
a real SMTP server (aiosmtpd) on 127.0.0.1 that the test starts, and reads back what the
server received: no mock of smtplib. TLS uses a certificate authority made in the test
(trustme), trusted through SSL_CERT_FILE as a user would point at their own CA bundle.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from badinput import cli_run

import briefing

from conftest import MINIMAL, write_project

PACK = """\
title: Send pack
date: 2026-01-02
items:
  - document: ../one.yaml
recipients: people.csv
message:
  subject: "Your briefing pack, {name}"
  body: |
    Dear {name},

    Attached is the briefing pack for **{organisation}** ({region} region).
    Braces stay braces: {{not a field}}.
"""
PEOPLE = """\
name,organisation,email,region
Alex Example,Example <b>Foundation</b>,alex@example.org,North
Sam Sample,Sample Relief Network,sam@example.org,South
Kim Demo,Demo Community Trust,kim@example.org,East
Ana Test,Test & Co,ana@example.org,West
"""
ADDRESSES = ["alex@example.org", "sam@example.org", "kim@example.org", "ana@example.org"]
MAIL = """\
[mail]
from = "Partnerships Team <partners@example.org>"
reply_to = "help@example.org"
signature = "The *Partnerships* Team"
host = "127.0.0.1"
port = {port}
security = "{security}"
retries = 3
retry_delay = 0
timeout = 10
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with its pack built (no briefing.toml yet: each test writes its own)."""
    root = write_project(tmp_path_factory.mktemp("send") / "project", {
        "content/one.yaml": MINIMAL,
        "content/packs/partners.yaml": PACK,
        "content/packs/people.csv": PEOPLE,
    })
    result = briefing.api.build([root / "content/packs/partners.yaml"], project=root)
    assert result.ok, result.failures
    return root


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Recorder:
    """The server's side: what it accepted, and how it misbehaves on request."""

    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    ehlo: int = 0
    #: address -> reply to its RCPT (e.g. a 5xx), for every attempt
    refuse: dict[str, str] = field(default_factory=dict)
    #: replies to DATA given once each, in order, before accepting (e.g. a 4xx)
    data_replies: list[str] = field(default_factory=list)
    #: after this many accepted messages, every DATA drops the connection
    drop_after: int | None = None
    #: called on each DATA before it is accepted; returning True refuses it (451)
    on_data: Callable[[int], bool] | None = None
    data_seen: int = 0

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        self.ehlo += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_seen += 1
        if self.on_data is not None and self.on_data(self.data_seen):
            return "451 4.3.0 not now"
        if self.drop_after is not None and len(self.received) >= self.drop_after:
            server.transport.close()
            return "421 closing"
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append((list(envelope.rcpt_tos), envelope.original_content))
        return f"250 2.0.0 Ok: queued as Q{len(self.received)}"

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(content, policy=email.policy.default)  # type: ignore[misc]
                for _, content in self.received]


@dataclass
class Server:
    recorder: Recorder
    port: int
    controller: Controller


@pytest.fixture
def tls() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    running: list[Controller] = []

    def start(**kwargs: Any) -> Server:
        recorder = Recorder()
        port = free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        running.append(controller)
        return Server(recorder, port, controller)

    yield start
    for controller in running:
        controller.stop()


def project_for(built: Path, tmp_path: Path, port: int, security: str = "none",
                extra: str = "") -> Path:
    project = tmp_path / "project"
    shutil.copytree(built, project)  # copy2: the copies stay newer than their sources
    (project / "briefing.toml").write_text(MAIL.format(port=port, security=security) + extra,
                                           encoding="utf-8")
    return project


def copy_of(project: Path, name: str) -> bytes:
    return (project / "out/packs/partners" / f"{name}.pdf").read_bytes()


def send_log(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((project / "out/packs/partners/send-log.json").read_text())
    return data


def attachment(message: EmailMessage) -> tuple[str | None, bytes]:
    parts = list(message.iter_attachments())
    assert len(parts) == 1
    part = parts[0]
    assert isinstance(part, EmailMessage)
    payload = part.get_content()
    assert isinstance(payload, bytes)
    return part.get_filename(), payload


def text_of(part: Any) -> str:
    """A text part's content, lines ending in \\n (SMTP's CRLF undone)."""
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


# -- a dry run ----------------------------------------------------------------------------------

def test_dry_run_writes_eml_files_and_contacts_no_server(
        built: Path, tmp_path: Path, start_server: Callable[..., Server]) -> None:
    server = start_server()
    project = project_for(built, tmp_path, server.port)
    result = cli_run(project, "send", "content/packs/partners.yaml")
    assert result.exit_code == 0, result.output
    assert server.recorder.ehlo == 0 and server.recorder.received == []
    assert not (project / "out/packs/partners/send-log.json").exists()
    assert "dry run, nothing sent: 4 to send" in result.output
    assert "over the 5.0 MB e-mail budget" in result.output
    for address in ADDRESSES:
        assert address in result.output
    eml = project / "out/packs/partners/alex-example.eml"
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["To"] == "Alex Example <alex@example.org>"
    assert message["From"] == "Partnerships Team <partners@example.org>"
    assert message["Reply-To"] == "help@example.org"
    assert message["Subject"] == "Your briefing pack, Alex Example"
    assert attachment(message) == ("alex-example.pdf", copy_of(project, "alex-example"))
    assert sorted(p.name for p in (project / "out/packs/partners").glob("*.eml")) == [
        "alex-example.eml", "ana-test.eml", "kim-demo.eml", "sam-sample.eml"]


def test_dry_run_reports_a_copy_over_the_budget(built: Path, tmp_path: Path) -> None:
    project = project_for(built, tmp_path, 2525)
    sizes = {name: len(copy_of(project, name)) for name in ("alex-example", "sam-sample")}
    budget = (min(sizes.values()) + max(sizes.values())) / 2
    assert max(sizes.values()) > budget > min(sizes.values())
    result = cli_run(project, "send", "content/packs/partners.yaml",
                     "--email-budget", f"{budget / 1024 / 1024:.9f}")
    assert result.exit_code == 1
    over = max(sizes, key=lambda name: sizes[name])
    assert [line.split()[-2:] for line in result.output.splitlines()
            if f"{over}.pdf" in line] == [["over", "budget"]]
    assert "1 over the" in result.output


# -- a normal batch -----------------------------------------------------------------------------

def test_normal_batch_each_recipient_gets_their_own_copy(
        built: Path, tmp_path: Path, start_server: Callable[..., Server]) -> None:
    server = start_server()
    project = project_for(built, tmp_path, server.port)
    result = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert result.exit_code == 0, result.output
    assert "sent 4, skipped 0 (already sent), failed 0" in result.output
    assert server.recorder.ehlo >= 1  # the counter the dry run's test relies on counts
    received = server.recorder.received
    assert [rcpt for rcpt, _ in received] == [[a] for a in ADDRESSES]
    names = ["alex-example", "sam-sample", "kim-demo", "ana-test"]
    for (rcpt, _), message, name in zip(received, server.recorder.messages(), names,
                                        strict=True):
        assert message["To"].addresses[0].addr_spec == rcpt[0]
        assert attachment(message) == (f"{name}.pdf", copy_of(project, name))
        assert message["Subject"].startswith("Your briefing pack, ")
        plain = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert plain is not None and html is not None
        assert message.get_content_type() == "multipart/mixed"
        assert "Braces stay braces: {not a field}." in text_of(plain)
        assert "-- \nThe *Partnerships* Team" in text_of(plain)
        assert "<em>Partnerships</em>" in text_of(html)
    alex = server.recorder.messages()[0]
    plain_text = text_of(alex.get_body(("plain",)))
    html_text = text_of(alex.get_body(("html",)))
    assert "Dear Alex Example," in plain_text
    assert "**Example <b>Foundation</b>** (North region)" in plain_text
    # a field's value is text in the HTML part, never markup
    assert "<strong>Example &lt;b&gt;Foundation&lt;/b&gt;</strong> (North region)" in html_text
    log = send_log(project)
    assert [e["address"] for e in log["sent"]] == ADDRESSES
    assert log["sent"][0]["reply"] == "250 2.0.0 Ok: queued as Q1"
    assert log["sent"][0]["message_id"] == alex["Message-ID"]
    import hashlib
    assert log["sent"][0]["attachment_sha256"] == hashlib.sha256(
        copy_of(project, "alex-example")).hexdigest()

    again = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert again.exit_code == 0, again.output
    assert "sent 0, skipped 4 (already sent), failed 0" in again.output
    assert len(server.recorder.received) == 4


def test_a_changed_copy_is_reported_not_resent(
        built: Path, tmp_path: Path, start_server: Callable[..., Server]) -> None:
    server = start_server()
    project = project_for(built, tmp_path, server.port)
    assert cli_run(project, "send", "content/packs/partners.yaml", "--deliver").exit_code == 0
    copy = project / "out/packs/partners/sam-sample.pdf"
    copy.write_bytes(copy.read_bytes() + b"\n% changed\n")
    result = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert result.exit_code == 1
    assert "changed since sent" in result.output
    assert "sent 0, skipped 3 (already sent), failed 0, changed since sent 1" in result.output
    assert len(server.recorder.received) == 4
    resent = cli_run(project, "send", "content/packs/partners.yaml", "--deliver",
                     "--resend-changed")
    assert resent.exit_code == 0, resent.output
    assert [rcpt for rcpt, _ in server.recorder.received[4:]] == [["sam@example.org"]]
    assert attachment(server.recorder.messages()[4])[1] == copy.read_bytes()


# -- authentication and TLS ---------------------------------------------------------------------

def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                  auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == b"briefing"
          and auth_data.password == b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def trusted(tls: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """The server's TLS context, with its CA trusted by the client through SSL_CERT_FILE."""
    bundle = tmp_path / "ca.pem"
    tls.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def test_starttls_with_authentication_required(
        built: Path, tmp_path: Path, start_server: Callable[..., Server],
        trusted: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch) -> None:
    server = start_server(tls_context=trusted, require_starttls=True, auth_required=True,
                          authenticator=authenticator)
    project = project_for(built, tmp_path, server.port, "starttls")
    monkeypatch.delenv("BRIEFING_SMTP_USER", raising=False)
    monkeypatch.delenv("BRIEFING_SMTP_PASSWORD", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    anonymous = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert anonymous.exit_code == 1
    assert "the server wants authentication (530" in anonymous.output
    assert server.recorder.received == []

    monkeypatch.setenv("BRIEFING_SMTP_USER", "briefing")
    monkeypatch.setenv("BRIEFING_SMTP_PASSWORD", "wrong")
    refused = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert refused.exit_code == 1
    assert "refused the credentials from the environment: 535" in refused.output
    assert "wrong" not in refused.output
    assert not (project / "out/packs/partners/send-log.json").exists()

    monkeypatch.setenv("BRIEFING_SMTP_PASSWORD", "s3cret")
    result = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert result.exit_code == 0, result.output
    assert [rcpt for rcpt, _ in server.recorder.received] == [[a] for a in ADDRESSES]


def test_credentials_from_a_netrc_file(
        built: Path, tmp_path: Path, start_server: Callable[..., Server],
        trusted: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch) -> None:
    server = start_server(tls_context=trusted, require_starttls=True, auth_required=True,
                          authenticator=authenticator)
    project = project_for(built, tmp_path, server.port, "starttls")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login briefing password s3cret\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.delenv("BRIEFING_SMTP_USER", raising=False)
    monkeypatch.delenv("BRIEFING_SMTP_PASSWORD", raising=False)
    monkeypatch.setenv("NETRC", str(netrc))
    result = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert result.exit_code == 0, result.output
    assert len(server.recorder.received) == 4


def test_implicit_tls(built: Path, tmp_path: Path, start_server: Callable[..., Server],
                      trusted: ssl.SSLContext) -> None:
    server = start_server(ssl_context=trusted)
    project = project_for(built, tmp_path, server.port, "tls")
    result = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert result.exit_code == 0, result.output
    assert len(server.recorder.received) == 4


def test_an_untrusted_certificate_stops_before_anything_is_sent(
        built: Path, tmp_path: Path, start_server: Callable[..., Server],
        tls: trustme.CA, monkeypatch: pytest.MonkeyPatch) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.issue_cert("127.0.0.1").configure_cert(context)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "empty.pem"))
    (tmp_path / "empty.pem").write_text("", encoding="utf-8")
    server = start_server(tls_context=context, require_starttls=True)
    project = project_for(built, tmp_path, server.port, "starttls")
    result = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert result.exit_code == 1
    assert "is not trusted" in result.output
    assert "stopped after 0 message(s)" in result.output
    assert server.recorder.received == []


# -- failures -----------------------------------------------------------------------------------

def test_dropped_connection_mid_batch_then_a_rerun_completes_without_duplicates(
        built: Path, tmp_path: Path, start_server: Callable[..., Server]) -> None:
    server = start_server()
    server.recorder.drop_after = 2
    project = project_for(built, tmp_path, server.port)
    first = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert first.exit_code == 1
    assert "sent 2, skipped 0 (already sent), failed 2" in first.output
    assert "connection lost" in first.output
    assert [e["address"] for e in send_log(project)["sent"]] == ADDRESSES[:2]

    server.recorder.drop_after = None
    second = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert second.exit_code == 0, second.output
    assert "sent 2, skipped 2 (already sent), failed 0" in second.output
    assert [rcpt for rcpt, _ in server.recorder.received] == [[a] for a in ADDRESSES]
    assert [e["address"] for e in send_log(project)["sent"]] == ADDRESSES


def test_a_4xx_succeeds_on_retry(built: Path, tmp_path: Path,
                                 start_server: Callable[..., Server]) -> None:
    server = start_server()
    server.recorder.data_replies = ["451 4.7.1 greylisted, try again", "452 4.3.1 busy"]
    project = project_for(built, tmp_path, server.port)
    result = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert result.exit_code == 0, result.output
    assert "sent 4, skipped 0 (already sent), failed 0" in result.output
    assert [rcpt for rcpt, _ in server.recorder.received] == [[a] for a in ADDRESSES]
    assert server.recorder.data_seen == 6


def test_a_4xx_that_persists_fails_after_the_retries(
        built: Path, tmp_path: Path, start_server: Callable[..., Server]) -> None:
    server = start_server()
    server.recorder.refuse["kim@example.org"] = "450 4.2.1 mailbox busy"
    project = project_for(built, tmp_path, server.port)
    result = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert result.exit_code == 1
    assert "kim@example.org refused: 450 4.2.1 mailbox busy (after 3 attempts)" in result.output
    assert len(server.recorder.received) == 3


def test_a_5xx_for_one_recipient_is_reported_and_the_others_go_on(
        built: Path, tmp_path: Path, start_server: Callable[..., Server]) -> None:
    server = start_server()
    server.recorder.refuse["sam@example.org"] = "550 5.1.1 no such user"
    project = project_for(built, tmp_path, server.port)
    result = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert result.exit_code == 1
    assert "sent 3, skipped 0 (already sent), failed 1" in result.output
    assert "failed: sam@example.org refused: 550 5.1.1 no such user" in result.output
    assert [rcpt for rcpt, _ in server.recorder.received] == [
        ["alex@example.org"], ["kim@example.org"], ["ana@example.org"]]
    assert "sam@example.org" not in [e["address"] for e in send_log(project)["sent"]]


def test_a_crash_mid_batch_loses_nothing_and_duplicates_nothing(
        built: Path, tmp_path: Path, start_server: Callable[..., Server]) -> None:
    """The sending process is killed (SIGKILL: no clean-up at all) while the server holds the
    third message; the re-run sends the third and fourth, and no one gets two."""
    server = start_server()
    project = project_for(built, tmp_path, server.port)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "briefing", "send", "content/packs/partners.yaml", "--deliver"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def kill_on_third(seen: int) -> bool:
        if seen == 3:
            os.kill(process.pid, signal.SIGKILL)
            return True
        return False

    server.recorder.on_data = kill_on_third
    process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL
    assert [e["address"] for e in send_log(project)["sent"]] == ADDRESSES[:2]
    assert not list((project / "out/packs/partners").glob(".*.tmp"))
    server.recorder.on_data = None
    result = cli_run(project, "send", "content/packs/partners.yaml", "--deliver")
    assert result.exit_code == 0, result.output
    assert [rcpt for rcpt, _ in server.recorder.received] == [[a] for a in ADDRESSES]


def test_the_rate_limit_spaces_the_messages(built: Path, tmp_path: Path,
                                            start_server: Callable[..., Server]) -> None:
    """With 30 a minute, each message waits for 2 s after the last one began (measured on a
    fake clock, so the test does not depend on the machine's speed)."""
    from briefing.send import send_pack

    server = start_server()
    project = project_for(built, tmp_path, server.port, extra="rate_limit = 30\n")
    waits: list[float] = []
    report = send_pack(project / "content/packs/partners.yaml", project=project,
                       deliver_now=True, sleep=waits.append)
    assert report.ok
    assert len(waits) == 3
    assert all(1.0 < w <= 2.0 for w in waits)


# -- bad input, before anything is built or sent ------------------------------------------------

@pytest.mark.parametrize(("people", "expected"), [
    ("name,email\nAlex,alex@example.org\nSam,not-an-address\n",
     "content/packs/people.csv:3: `not-an-address` is not a valid e-mail address"),
    ("name,email\nAlex,alex@example.org\nSam,Alex@Example.org\n",
     "content/packs/people.csv:3: `Alex@Example.org` is already the address of the recipient "
     "on line 2"),
    ('name,email\n"Alex\nBcc: everyone@example.org",alex@example.org\n',
     "content/packs/people.csv:2: the recipient's `name` carries a line break"),
    ('name,email\nAlex,"alex@example.org\r\nBcc: x@example.org"\n',
     "content/packs/people.csv:2: the recipient's `email` carries a line break"),
])
def test_bad_recipients_are_errors_with_file_and_line(
        tmp_path: Path, people: str, expected: str) -> None:
    project = write_project(tmp_path / "p", {
        "content/one.yaml": MINIMAL,
        "content/packs/partners.yaml": PACK.replace("{organisation}", "x").replace(
            " ({region} region)", ""),
        "content/packs/people.csv": people.encode(),
    })
    for command in ("check", "build", "send"):
        result = cli_run(project, command, "content/packs/partners.yaml")
        assert result.exit_code == 1
        assert expected in result.output, (command, result.output)
        assert "Traceback" not in result.output
    assert not (project / "out").exists()


def test_an_unknown_field_is_an_error_at_its_line(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {
        "content/one.yaml": MINIMAL,
        "content/packs/partners.yaml": PACK.replace("{region} region", "{regoin} region"),
        "content/packs/people.csv": PEOPLE,
    })
    result = cli_run(project, "check", "content/packs/partners.yaml")
    assert result.exit_code == 1
    assert ("content/packs/partners.yaml:11: unknown field `{regoin}`: the recipients in "
            "content/packs/people.csv have email, name, organisation, region") in result.output


def test_a_message_in_a_markdown_file(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {
        "content/one.yaml": MINIMAL,
        "content/packs/partners.yaml": PACK.split("message:")[0]
        + "message:\n  subject: Hello {name}\n  file: message.md\n",
        "content/packs/message.md": "Dear {name},\n\nSee {nope}.\n",
        "content/packs/people.csv": PEOPLE,
    })
    result = cli_run(project, "check", "content/packs/partners.yaml")
    assert result.exit_code == 1
    assert "content/packs/message.md:3: unknown field `{nope}`" in result.output


def test_missing_copies_and_a_missing_mail_table_are_clear(built: Path, tmp_path: Path) -> None:
    project = project_for(built, tmp_path, 2525)
    (project / "out/packs/partners/kim-demo.pdf").unlink()
    result = cli_run(project, "send", "content/packs/partners.yaml")
    assert result.exit_code == 1
    assert ("out/packs/partners/kim-demo.pdf: no such copy; build the pack first: "
            "briefing build --profile email content/packs/partners.yaml") in result.output
    (project / "briefing.toml").write_text('[mail]\nfrom = "nobody"\nsecurity = "none"\n'
                                           'host = "smtp.example.org"\n', encoding="utf-8")
    result = cli_run(project, "send", "content/packs/partners.yaml")
    assert result.exit_code == 1
    assert "briefing.toml:2: `from` must be one address" in result.output
    assert "briefing.toml:3: `security = \"none\"` sends passwords" in result.output
    (project / "briefing.toml").unlink()
    result = cli_run(project, "send", "content/packs/partners.yaml")
    assert "briefing.toml: no project file" in result.output


def test_a_stale_copy_is_not_sent(built: Path, tmp_path: Path) -> None:
    project = project_for(built, tmp_path, 2525)
    people = project / "content/packs/people.csv"
    people.write_text(people.read_text(encoding="utf-8"), encoding="utf-8")
    result = cli_run(project, "send", "content/packs/partners.yaml")
    assert result.exit_code == 1
    assert "older than the pack's sources (as are 3 more); build the pack first" in result.output


def test_a_dry_run_is_reproducible(built: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """With SOURCE_DATE_EPOCH the .eml files are byte-identical run to run (no random MIME
    boundary, no clock), so a dry run can be compared with the last one."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")
    project = project_for(built, tmp_path, 2525)
    eml = project / "out/packs/partners/kim-demo.eml"
    assert cli_run(project, "send", "content/packs/partners.yaml").exit_code == 0
    first = eml.read_bytes()
    eml.unlink()
    assert cli_run(project, "send", "content/packs/partners.yaml").exit_code == 0
    assert eml.read_bytes() == first
    assert b"Date: Thu, 28 May 2026" in first


def test_a_field_that_would_break_the_subject_is_an_error(built: Path, tmp_path: Path) -> None:
    project = project_for(built, tmp_path, 2525)
    pack = project / "content/packs/partners.yaml"
    pack.write_text(pack.read_text(encoding="utf-8").replace(
        "Your briefing pack, {name}", "Your briefing pack, {region}"), encoding="utf-8")
    people = project / "content/packs/people.csv"
    people.write_text(PEOPLE.replace(",East", ',"East\nBcc: everyone@example.org"'),
                      encoding="utf-8")
    for copy in (project / "out/packs/partners").glob("*.pdf"):
        copy.touch()
    result = cli_run(project, "send", "content/packs/partners.yaml")
    assert result.exit_code == 1
    assert ("content/packs/people.csv:4: a field used in the subject "
            "(content/packs/partners.yaml:7) carries a line break") in result.output
    assert not list((project / "out/packs/partners").glob("*.eml"))
