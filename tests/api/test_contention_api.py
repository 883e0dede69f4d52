"""A bad day's mixed load over real HTTP on one set of alerts: Alertmanager batches (in
shuffled order), single posts, operators acknowledging, noting and resolving the same
alerts, and the worker ticking — all at once. No request may fail with a 5xx, and the
database must still hold the invariants: one open alert per key, each transition one
event chained from the last, and every accepted signal counted exactly once.

Bounded by request count, not time (a slow machine takes longer, never flakes)."""
from __future__ import annotations

import json
import os
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import httpx
import sqlalchemy as sa

from core import worker

SCALE = int(os.environ.get("ALERTDESK_CONTENTION_SCALE", "1"))   # >1 for a longer local run
KEYS = 24                    # alerts fought over
BATCHES = 12 * SCALE         # Alertmanager batches per sender
SINGLES = 60 * SCALE         # single posts
OPERATOR_ROUNDS = 40 * SCALE  # list + act rounds per operator


def am_alert(i: int) -> dict:  # type: ignore[type-arg]
    return {"status": "firing", "labels": {"alertname": "DiskFull", "instance": f"db-{i:02d}",
                                           "service": "storage", "severity": "critical"},
            "annotations": {"summary": f"disk full on db-{i:02d}"},
            "startsAt": "2026-12-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": f"fp{i:04d}"}


def test_mixed_load_no_5xx_and_invariants_hold(http, api_base, ingest_key, operator, manager,
                                               engine) -> None:
    statuses: Counter[int] = Counter()
    took: dict[str, list[float]] = {}
    accepted = Counter()     # firing signals the server said it took, per sender kind
    errors: list[str] = []
    lock = threading.Lock()

    def record(kind: str, r: httpx.Response, signals: int = 0) -> None:
        with lock:
            took.setdefault(kind, []).append(r.elapsed.total_seconds() * 1000)
            statuses[r.status_code] += 1
            if r.status_code >= 500:
                errors.append(f"{kind} {r.status_code} {r.text[:300]}")
            elif r.status_code < 300:
                accepted[kind] += signals

    def alertmanager(seed: int) -> None:
        rnd = random.Random(seed)
        with httpx.Client(base_url=api_base, timeout=60) as c:
            for _ in range(BATCHES):
                members = [am_alert(i) for i in range(KEYS)]
                rnd.shuffle(members)
                r = c.post("/api/v1/webhooks/alertmanager", headers=ingest_key,
                           json={"version": "4", "status": "firing", "receiver": "desk",
                                 "groupKey": "{}:{}", "alerts": members})
                record("batch", r, KEYS)

    def singles(seed: int) -> None:
        rnd = random.Random(seed)
        with httpx.Client(base_url=api_base, timeout=60) as c:
            for _ in range(SINGLES):
                i = rnd.randrange(KEYS)
                r = c.post("/api/v1/alerts", headers=ingest_key, json={
                    "summary": f"disk full on db-{i:02d}", "severity": "critical",
                    "service": "storage", "device_id": f"db-{i:02d}",
                    "labels": {"alertname": "DiskFull", "instance": f"db-{i:02d}"}})
                record("single", r, 1)

    def operator_(headers: dict[str, str], seed: int) -> None:
        rnd = random.Random(seed)
        with httpx.Client(base_url=api_base, timeout=60) as c:
            for _ in range(OPERATOR_ROUNDS):
                r = c.get("/api/v1/alerts", params={"state": "open", "limit": 100},
                          headers=headers)
                record("list", r)
                ids = [a["id"] for a in r.json().get("data", [])] if r.status_code == 200 else []
                for alert_id in rnd.sample(ids, min(3, len(ids))):
                    action = rnd.choice(["acknowledge", "resolve", "note", "investigate"])
                    if action == "note":
                        r = c.post(f"/api/v1/alerts/{alert_id}/notes", headers=headers,
                                   json={"note": "looking"})
                    else:
                        r = c.post(f"/api/v1/alerts/{alert_id}/{action}", headers=headers,
                                   json={"note": "busy night"})
                    record(action, r)
                    assert r.status_code in (200, 201, 409), r.text

    def ticks() -> None:
        for _ in range(6):
            worker.tick(engine, datetime.now(timezone.utc))

    jobs = [lambda: alertmanager(1), lambda: alertmanager(2), lambda: singles(3),
            lambda: operator_(operator, 4), lambda: operator_(manager, 5), ticks]
    with ThreadPoolExecutor(len(jobs)) as pool:
        for f in [pool.submit(j) for j in jobs]:
            f.result()

    # the README's contention figures come from this line (ALERTDESK_CONTENTION_SCALE=8)
    print(json.dumps({"requests": sum(statuses.values()), "5xx": len(errors),
                      "status": dict(statuses), "p95_ms": {
                          k: round(sorted(v)[int(0.95 * (len(v) - 1))]) for k, v in took.items()}}))
    assert not errors, errors[:5]
    assert statuses[200] + statuses[201] > 0 and sum(accepted.values()) == \
        2 * BATCHES * KEYS + SINGLES
    with engine.connect() as c:
        doubled = c.execute(sa.text(
            "select fingerprint, count(*) from alerts where state in "
            "('new', 'acknowledged', 'investigating', 'silenced') "
            "group by fingerprint having count(*) > 1")).all()
        assert doubled == []                                   # one open alert per key
        counted = c.scalar(sa.text("select sum(duplicate_count) from alerts"))
        assert counted == sum(accepted.values())               # every signal once
        alerts = dict(c.execute(sa.text("select id, state from alerts")).all())
        chain: dict[int, list[tuple[str | None, str]]] = {}
        for alert_id, frm, to in c.execute(sa.text(
                "select alert_id, from_state, to_state from alert_events "
                "where kind in ('created', 'transition') order by alert_id, at, id")):
            chain.setdefault(alert_id, []).append((frm, to))
    for alert_id, steps in chain.items():                       # one event per transition
        for (_, before), (frm, _) in zip(steps, steps[1:]):
            assert frm == before, (alert_id, steps)
        assert steps[-1][1] == alerts[alert_id], (alert_id, steps)
