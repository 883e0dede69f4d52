"""Operators while ingest runs (issue 18's second target): Alertmanager batches of 100
(70 % repeats of alerts already open, as Alertmanager re-sends every group_interval) from
4 clients, and at the same time two operators acknowledging, noting and resolving alerts of
the very services the batches touch — the rows the batches update. Real HTTP to the
uvicorn subprocess of ``bench.ingest.api_server`` on the bench database.

Figures: the batch stream's alerts/s and request p95 while the operators work, each
operator action's p95 (acknowledge, note, resolve) and how many requests failed. Targets:
batch ≥ 5,000 alerts/s with batch p95 ≤ 200 ms and operator p95 ≤ 100 ms.
"""
from __future__ import annotations

import random
import statistics
import threading
import time
from typing import Any

import httpx
import sqlalchemy as sa

from bench.ingest import api_server, tidy
from bench.ingest_batch import PREFIX, stream
from bench.measure import p95
from bench.target import log
from core import db as core_db
from core.auth import create_api_key, create_user

USER, PASSWORD = "bench-mixed-operator", "mixed-bench-operator-pass-7"
OPERATORS = 2


def _operator(base: str, token: str, seed: int, stop: threading.Event,
              took: dict[str, list[float]], failed: list[int], lock: threading.Lock) -> None:
    rnd = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        while not stop.is_set():
            service = f"bench-svc-{rnd.randrange(40)}"
            listed = client.get("/api/v1/alerts", params={
                "service": service, "state": "new", "limit": 20, "sort": "newest"})
            ids = [a["id"] for a in listed.json().get("data", [])] if listed.is_success else []
            if not ids:
                time.sleep(0.05)
                continue
            alert = rnd.choice(ids)
            for action in ("acknowledge", "note", "resolve"):
                t0 = time.perf_counter()
                if action == "note":
                    r = client.post(f"/api/v1/alerts/{alert}/notes", json={"note": "on it"})
                else:
                    r = client.post(f"/api/v1/alerts/{alert}/{action}", json={"note": "bench"})
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    took.setdefault(action, []).append(ms)
                    if r.status_code >= 500:
                        failed.append(r.status_code)


def run(engine: sa.Engine, clients: int = 4, requests: int = 200) -> dict[str, Any]:
    with core_db.transaction(engine) as s:
        key, row = create_api_key(s, "bench-mixed", "operator", None)
        if not s.scalar(sa.text("select 1 from users where username = :u"), {"u": USER}):
            create_user(s, USER, PASSWORD, "operator")
    url = engine.url.render_as_string(hide_password=False)
    took: dict[str, list[float]] = {}
    failed: list[int] = []
    lock, stop = threading.Lock(), threading.Event()
    try:
        with api_server(url) as base:
            token = httpx.post(f"{base}/api/v1/auth/token", json={
                "username": USER, "password": PASSWORD}).json()["access_token"]
            # a first pass opens the alerts the operators will work on
            stream(base, key, "warmup", 0.0, clients, 5)
            workers = [threading.Thread(target=_operator, args=(
                base, token, i, stop, took, failed, lock)) for i in range(OPERATORS)]
            for w in workers:
                w.start()
            log(f"mixed: {clients} batch clients x {requests} x 100 alerts + {OPERATORS} operators")
            batch = stream(base, key, "mixed", 0.7, clients, requests)
            stop.set()
            for w in workers:
                w.join()
    finally:
        tidy(engine, row["id"], f"am:{PREFIX}-%")
    out: dict[str, Any] = {
        "mixed_batch_alerts_per_s": batch["ingest_mixed_alerts_per_s"],
        "mixed_batch_p95_ms": batch["ingest_mixed_request_p95_ms"],
        "mixed_batch_errors": batch["ingest_mixed_errors"], "mixed_operator_5xx": len(failed)}
    for action, values in took.items():
        out[f"mixed_{action}_p95_ms"] = round(p95(values), 1) if len(values) > 1 else None
        out[f"mixed_{action}_p50_ms"] = round(statistics.median(values), 1) if values else None
        out[f"mixed_{action}_n"] = len(values)
    return out


if __name__ == "__main__":
    import json

    from bench import generate

    bench_engine, _ = generate.ensure(False)
    print(json.dumps(run(bench_engine), indent=2))
