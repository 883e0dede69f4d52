"""Two API processes against one PostgreSQL behave as one: a token from one works on the
other, concurrent acknowledges split across both still have exactly one winner, and the
same alert posted to both at once is one alert with every duplicate counted."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.e2e.test_launcher import free_port
from tests.factories import event_rows, make_users

ROOT = Path(__file__).resolve().parents[2]
KEY = "ad_replica-test-key-0123456789"


def start_api(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # same DB URL and data dir (JWT secret)
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:app", "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, env=env)


def wait_healthy(base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"{base} did not come up")


@pytest.fixture
def replicas(engine: sa.Engine) -> Iterator[list[str]]:
    from core import db as core_db
    from core.auth import create_api_key

    make_users(engine)
    with core_db.transaction(engine) as s:
        create_api_key(s, "am", "operator", None, key=KEY)
    ports = [free_port(), free_port()]
    procs = [start_api(p) for p in ports]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for base in bases:
            wait_healthy(base)
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(20)


def test_two_api_processes_behave_as_one(replicas: list[str], engine: sa.Engine) -> None:
    a, b = replicas
    token = httpx.post(f"{a}/api/v1/auth/token",
                       json={"username": "olga", "password": "secret-pass-1"}).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    alert = {"summary": "fan failure", "severity": "high", "device_id": "sw-1"}

    def post(i: int) -> int:
        return httpx.post(f"{replicas[i % 2]}/api/v1/alerts", json=alert,
                          headers={"X-API-Key": KEY}, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(post, range(40)))
    assert codes.count(201) == 1 and codes.count(200) == 39
    with engine.connect() as c:
        alert_id, dups = c.execute(sa.text("select id, duplicate_count from alerts")).one()
    assert dups == 40

    def ack(i: int) -> int:
        url = f"{replicas[i % 2]}/api/v1/alerts/{alert_id}/acknowledge"
        return httpx.post(url, headers=auth, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(ack, range(30)))
    assert codes.count(200) == 1 and codes.count(409) == 29
    assert [e.to_state for e in event_rows(engine, alert_id) if e.kind == "transition"] == [
        "acknowledged"]
    assert httpx.get(f"{b}/api/v1/alerts/{alert_id}", headers=auth).json()["state"] == (
        "acknowledged")
