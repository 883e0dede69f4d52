"""A real uvicorn server on loopback for the whole session; each request resolves its
database from ALERTDESK_DATABASE_URL, which the `db_url` fixture points at a fresh DB."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from core import db as core_db
from core.auth import create_api_key
from tests.factories import make_users


@pytest.fixture(scope="session")
def api_base() -> Iterator[str]:
    from api.app import app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def http(api_base: str, engine: sa.Engine) -> Iterator[httpx.Client]:
    make_users(engine)
    with httpx.Client(base_url=api_base, timeout=30) as client:
        yield client


def login(http: httpx.Client, username: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/token", json={"username": username, "password": "secret-pass-1"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def operator(http: httpx.Client) -> dict[str, str]:
    return login(http, "olga")


@pytest.fixture
def viewer(http: httpx.Client) -> dict[str, str]:
    return login(http, "victor")


@pytest.fixture
def manager(http: httpx.Client) -> dict[str, str]:
    return login(http, "maria")


@pytest.fixture
def admin(http: httpx.Client) -> dict[str, str]:
    return login(http, "ada")


@pytest.fixture
def ingest_key(engine: sa.Engine) -> dict[str, str]:
    with core_db.transaction(engine) as s:
        key, _ = create_api_key(s, "prometheus", "operator", None)
    return {"X-API-Key": key}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The OpenAPI fuzzer's figures (test_openapi_fuzz.py), every run that includes it."""
    figures = [dict(value) for reports in terminalreporter.stats.values() for report in reports
               if getattr(report, "when", None) == "teardown"
               for name, value in getattr(report, "user_properties", ()) if name == "fuzz"]
    if figures:
        from tests.api.test_openapi_fuzz import CALLERS, EXAMPLES
        terminalreporter.write_line(
            f"OpenAPI fuzz: {len(figures)} operations x {len(CALLERS)} callers "
            f"({EXAMPLES} examples per operation + boundary cases), "
            f"{sum(f['requests'] for f in figures)} requests, "
            f"{sum(f['server_errors'] for f in figures)} answered 5xx")
