"""One caller's one-alert posts that arrive while its previous write runs share the next
transaction (api/coalesce.py, api/intake.py), over real HTTP. Each request must still get
the answer it would have got alone, and the rows must be what one-by-one posting leaves.

The first write is held on a row lock the test takes (a duplicate of an alert whose row the
test locked), so the other posts surely queue behind it: no timing luck, no sleeps."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import sqlalchemy as sa

from api.coalesce import PARALLEL
from api.intake import INTAKE


def until(check: Callable[[], bool], what: str, limit_s: float = 20) -> None:
    deadline = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


@contextmanager
def held(engine: sa.Engine, fingerprint: str) -> Iterator[None]:
    """Lock the open alert ``fingerprint``'s row until the block ends."""
    with engine.connect() as c:
        tx = c.begin()
        assert c.execute(sa.text("select id from alerts where fingerprint = :fp for update"),
                         {"fp": fingerprint}).all()
        yield
        tx.commit()


def waiting_on_lock(engine: sa.Engine) -> int:
    with engine.connect() as c:
        return int(c.scalar(sa.text(
            "select count(*) from pg_stat_activity where datname = current_database() "
            "and wait_event_type = 'Lock'")))


def queued_behind(http: httpx.Client, engine: sa.Engine, blocker: tuple[str, Any],
                  posts: list[tuple[str, Any]], headers: dict[str, str],
                  lock: str = "held") -> list[httpx.Response]:
    """``blocker`` (a duplicate of the alert ``lock``) posted PARALLEL times and held on
    that alert's row lock, then ``posts`` sent while they wait; the answers of all, the
    blockers' first."""
    out: dict[int, httpx.Response] = {}

    def send(i: int, path: str, body: Any) -> None:
        out[i] = http.post(path, json=body, headers=headers)

    threads: list[threading.Thread] = []
    with held(engine, lock):
        for i in range(PARALLEL):  # every write slot of the key held
            threads.append(threading.Thread(target=send, args=(i, *blocker)))
            threads[-1].start()
            until(lambda n=i + 1: waiting_on_lock(engine) == n, "a write to wait on the lock")
        for i, (path, body) in enumerate(posts, start=PARALLEL):
            threads.append(threading.Thread(target=send, args=(i, path, body)))
            threads[-1].start()
            until(lambda n=i - PARALLEL + 1: INTAKE.waiting() == n, "the post to queue")
    for t in threads:
        t.join(30)
    return [out[i] for i in range(len(posts) + PARALLEL)]


def xmins(engine: sa.Engine, *fingerprints: str) -> dict[str, int]:
    """The transaction that wrote each alert's row last."""
    with engine.connect() as c:
        return dict(c.execute(sa.text(  # type: ignore[arg-type]
            "select fingerprint, xmin::text::bigint from alerts "
            "where fingerprint = any(:fps)"), {"fps": list(fingerprints)}).all())


def post(http: httpx.Client, request: tuple[str, Any],
         headers: dict[str, str] | None = None) -> httpx.Response:
    return http.post(request[0], json=request[1], headers=headers)


def alert(fp: str, **kw: Any) -> dict[str, Any]:
    return {"summary": f"disk full {fp}", "severity": "high", "service": "storage",
            "fingerprint": fp, **kw}


def test_queued_posts_share_one_transaction_and_keep_their_own_answers(
        http, engine, ingest_key) -> None:
    assert http.post("/api/v1/alerts", json=alert("held"), headers=ingest_key).status_code == 201
    *first, a1, a2, a1_again, bad = queued_behind(http, engine, (
        "/api/v1/alerts", alert("held")), [
        ("/api/v1/alerts", alert("a1")), ("/api/v1/alerts", alert("a2")),
        ("/api/v1/alerts", alert("a1")), ("/api/v1/alerts", alert("a3", severity="nope"))],
        ingest_key)

    assert {(r.status_code, r.json()["deduplicated"]) for r in first} == {(200, True)}
    assert (a1.status_code, a2.status_code, a1_again.status_code) == (201, 201, 200)
    assert a1_again.json()["id"] == a1.json()["id"] != a2.json()["id"]
    assert a1.json()["fingerprint"] == "a1" and a2.json()["fingerprint"] == "a2"
    assert bad.status_code == 422 and "severity" in bad.text
    written = xmins(engine, "held", "a1", "a2", "a3")
    assert set(written) == {"held", "a1", "a2"}  # the refused one wrote nothing
    assert written["a1"] == written["a2"] != written["held"]  # one shared transaction
    with engine.connect() as c:
        assert c.execute(sa.text("select fingerprint, duplicate_count from alerts "
                                 "order by fingerprint")).all() == [
            ("a1", 2), ("a2", 1), ("held", 1 + PARALLEL)]  # occurrences


def test_events_v2_resolve_then_trigger_stay_in_order(http, engine, ingest_key) -> None:
    """A resolve and a trigger of one alert queued together: resolved, then reopened (the
    flap window), as one after the other; an acknowledge goes its own way meanwhile."""
    key = ingest_key["X-API-Key"]

    def event(action: str, dedup: str) -> tuple[str, Any]:
        return "/v2/enqueue", {"routing_key": key, "event_action": action, "dedup_key": dedup,
                               "payload": {"summary": f"{dedup} down", "source": "web-1",
                                           "severity": "critical"}}

    assert post(http, event("trigger", "blk")).status_code == 202
    x = post(http, event("trigger", "x")).json()["alert_id"]
    blocker, resolve, trigger = event("trigger", "blk"), event("resolve", "x"), event("trigger", "x")
    answers = queued_behind(http, engine, blocker, [resolve, trigger], {},
                            lock="pd:prometheus:blk")
    assert [r.status_code for r in answers] == [202] * (PARALLEL + 2)
    assert [r.json()["alert_id"] for r in answers[PARALLEL:]] == [x, x]
    assert [r.json()["dedup_key"] for r in answers] == ["blk"] * PARALLEL + ["x", "x"]
    with engine.connect() as c:
        steps = c.execute(sa.text("select from_state, to_state from alert_events "
                                  "where alert_id = :id order by id"), {"id": x}).all()
        assert c.scalar(sa.text("select state from alerts where id = :id"), {"id": x}) == "new"
    assert [tuple(s) for s in steps][-2:] == [("new", "resolved"), ("resolved", "new")]


def test_grafana_requests_share_and_answer_each_own_summary(http, engine, ingest_key) -> None:
    def grafana(*fps: str, status: str = "firing") -> tuple[str, Any]:
        return "/api/v1/webhooks/grafana", {
            "receiver": "ad", "status": status, "orgId": 1, "version": "1", "groupKey": "{}",
            "alerts": [{"status": status, "fingerprint": fp,
                        "labels": {"alertname": f"Down {fp}", "service": "web"},
                        "annotations": {}, "startsAt": "2026-12-07T00:00:00Z",
                        "endsAt": "0001-01-01T00:00:00Z"} for fp in fps]}

    assert post(http, grafana("blk"), ingest_key).status_code == 200
    blocker = grafana("blk")
    *first, one, two = queued_behind(http, engine, blocker, [grafana("g1", "g2"),
                                                            grafana("g3", "g1")],
                                    ingest_key, lock="grafana:1:blk")
    assert [r.json()["deduplicated"] for r in first] == [1] * PARALLEL
    assert {k: one.json()[k] for k in ("received", "created", "deduplicated")} == {
        "received": 2, "created": 2, "deduplicated": 0}
    assert {k: two.json()[k] for k in ("received", "created", "deduplicated")} == {
        "received": 2, "created": 1, "deduplicated": 1}
    assert two.json()["alert_ids"][1] == one.json()["alert_ids"][0]


def test_a_shared_transaction_that_fails_is_run_again_one_by_one(http, engine,
                                                                  ingest_key) -> None:
    """A post the database refuses (here: a trigger the test adds) fails alone; the posts
    that shared its transaction are written and answered as if it had not been there."""
    with engine.begin() as c:
        c.execute(sa.text("""
            create function refuse_boom() returns trigger language plpgsql as $$
            begin
              if new.fingerprint = 'boom' then raise exception 'boom refused'; end if;
              return new;
            end $$;
            create trigger refuse_boom before insert on alerts
              for each row execute function refuse_boom()"""))
    assert http.post("/api/v1/alerts", json=alert("held"), headers=ingest_key).status_code == 201
    *first, ok1, boom, ok2 = queued_behind(http, engine, ("/api/v1/alerts", alert("held")), [
        ("/api/v1/alerts", alert("ok1")), ("/api/v1/alerts", alert("boom")),
        ("/api/v1/alerts", alert("ok2"))], ingest_key)
    assert [r.status_code for r in (*first, ok1, boom, ok2)] == [200] * PARALLEL + [201, 500, 201]
    written = xmins(engine, "ok1", "boom", "ok2")
    assert set(written) == {"ok1", "ok2"} and written["ok1"] != written["ok2"]
