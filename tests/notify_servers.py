"""Real local servers standing in for the outside world of notifications: an HTTP server
(Slack, Twilio, PagerDuty, generic webhooks) that records every request and answers from a
script, and SMTP servers (aiosmtpd) that accept, or demand AUTH and refuse it."""
from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b'{"status": "success"}'
    delay_s: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class FakeHTTP:
    """Records requests; ``script[path]`` is a queue of replies (then ``default``)."""

    requests: list[Seen] = field(default_factory=list)
    script: dict[str, list[Reply]] = field(default_factory=dict)
    default: Reply = Reply()
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply(self, path: str, *replies: Reply) -> None:
        self.script.setdefault(path, []).extend(replies)

    def to(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    def _next(self, seen: Seen) -> Reply:
        with self.lock:
            self.requests.append(seen)
            queue = self.script.get(seen.path)
            return queue.pop(0) if queue else self.default


@contextmanager
def fake_http() -> Iterator[FakeHTTP]:
    fake = FakeHTTP()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            seen = Seen("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            reply = fake._next(seen)
            time.sleep(reply.delay_s)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except OSError:  # the client gave up (timeout test)
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


def _refuse(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    return AuthResult(success=False, handled=False)


@contextmanager
def smtp_server(require_auth: bool = False) -> Iterator[tuple[int, Mailbox]]:
    """An SMTP server on 127.0.0.1; ``require_auth`` demands AUTH and refuses every login."""
    box = Mailbox()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if require_auth:
        kwargs = {"auth_required": True, "auth_require_tls": False, "authenticator": _refuse}
    controller = Controller(box, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


def queue_one(engine: Any, channel: str, target: dict[str, Any], now: Any, *,
              alert_id: int | None = None, key: str | None = None,
              summary: str | None = None) -> int:
    """Enqueue one notification through the real outbox API (paging about ``alert_id``)."""
    import sqlalchemy as sa

    from core import db as core_db
    from core.notify.format import alert_payload, sample_payload
    from core.notify.outbox import enqueue
    from core.notify.vault import recipient_for

    with core_db.transaction(engine) as s:
        if alert_id is not None:
            alert = s.execute(sa.text("select * from alerts where id = :i"), {"i": alert_id}).one()
            payload = alert_payload(dict(alert._mapping), reason="tier 1 of policy 'test'")
        else:
            payload = {**sample_payload(channel), "kind": "info"}
        if summary is not None:
            payload["summary"] = summary
        new_id = enqueue(s, channel=channel, target=target, recipient=recipient_for(channel, target),
                         payload=payload, idempotency_key=key or f"k:{time.monotonic_ns()}",
                         now=now, alert_id=alert_id, reason="tier 1 of policy 'test'")
    assert new_id is not None
    return new_id


def notification(engine: Any, notification_id: int) -> Any:
    import sqlalchemy as sa

    with engine.connect() as c:
        return c.execute(sa.text("select * from notifications where id = :i"),
                         {"i": notification_id}).one()


def attempts(engine: Any, notification_id: int) -> list[str]:
    import sqlalchemy as sa

    with engine.connect() as c:
        return list(c.execute(sa.text(
            "select outcome from notification_attempts where notification_id = :i order by id"),
            {"i": notification_id}).scalars())
