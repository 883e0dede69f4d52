"""Delivery throughput and the delay of a new critical page behind a backlog.

A local HTTP receiver (its own process, threaded, keep-alive, 127.0.0.1, answers 200 at
once) stands in for the world.
- ``delivery_per_s``: 5,000 webhook notifications (each its own receiver path, so none is
  bundled) drained by ``deliver_for`` passes, as the worker does;
- ``critical_due_to_sent_s``: with 10,000 older low-severity notifications pending, a new
  critical page falls due; the time until it is sent (the worker's passes, from the start).
Everything queued is deleted afterwards (retention's sanctioned delete).
"""
from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from core import db as core_db
from core.notify.base import NotifyConfig
from core.notify.deliver import deliver_due, deliver_for
from core.notify.outbox import enqueue

PREFIX = "bench-delivery"


RECEIVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H); s.daemon_threads = True
print(s.server_address[1], flush=True); s.serve_forever()
"""


@contextmanager
def receiver() -> Iterator[str]:
    """A receiver in its own process (as a real one would be: not sharing our GIL)."""
    proc = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int((proc.stdout.readline() if proc.stdout else "").strip())
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def queue(engine: sa.Engine, base: str, n: int, severity: str, now: datetime, tag: str) -> None:
    with core_db.transaction(engine) as s:
        for i in range(n):
            enqueue(s, channel="webhook", target={"type": "webhook", "url": f"{base}/{tag}/{i}"},
                    recipient=f"{PREFIX}:{tag}:{i}", idempotency_key=f"{PREFIX}:{tag}:{i}",
                    payload={"kind": "test", "severity": severity, "summary": tag}, now=now)


def tidy(engine: sa.Engine) -> None:
    with core_db.transaction(engine) as s:
        s.execute(sa.text("set local alertdesk.retention = 'on'"))
        s.execute(sa.text("delete from notification_attempts where notification_id in "
                          "(select id from notifications where idempotency_key like :p)"),
                  {"p": f"{PREFIX}:%"})
        s.execute(sa.text("delete from notifications where idempotency_key like :p"),
                  {"p": f"{PREFIX}:%"})


def run(engine: sa.Engine, n: int = 5_000, backlog: int = 10_000) -> dict[str, Any]:
    logging.getLogger("alertdesk.notify").setLevel(logging.ERROR)
    config = NotifyConfig.from_env()
    tidy(engine)
    try:
        with receiver() as base:
            now = datetime.now(timezone.utc)
            queue(engine, base, n, "high", now, "rate")
            t0 = time.perf_counter()
            sent = 0
            while True:
                done = deliver_for(engine, now, budget_s=60, config=config)
                sent += done.get("sent", 0)
                if not sum(done.values()):
                    break
            rate = sent / (time.perf_counter() - t0)
            tidy(engine)
            queue(engine, base, backlog, "low", now, "backlog")
            queue(engine, base, 1, "critical", now, "page")
            t0 = time.perf_counter()
            delay = None
            while delay is None and time.perf_counter() - t0 < 120:
                deliver_due(engine, now, config=config)
                with engine.connect() as c:
                    if c.scalar(sa.text("select status from notifications where "
                                        "idempotency_key = :k"), {"k": f"{PREFIX}:page:0"}) == "sent":
                        delay = time.perf_counter() - t0
        return {"delivery_per_s": round(rate, 1), "delivery_sent": sent,
                "critical_due_to_sent_s": round(delay, 2) if delay is not None else None}
    finally:
        tidy(engine)


if __name__ == "__main__":
    import json

    from bench import generate

    bench_engine, _ = generate.ensure(False)
    print(json.dumps(run(bench_engine), indent=2))
