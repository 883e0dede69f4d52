"""Where the benchmark data lives: never the user's main database.

``ALERTDESK_BENCH_DATABASE_URL`` when set, else a database ``alertdesk_bench`` on an
embedded PostgreSQL of its own in ``<ALERTDESK_DATA_DIR or .alertdesk>/bench-pgdata``.
"""
from __future__ import annotations

import os
import sys

import sqlalchemy as sa

from core import config
from core import db as core_db
from core.migrations.apply import upgrade

BENCH_DB = "alertdesk_bench"
ENV = "ALERTDESK_BENCH_DATABASE_URL"
SCALE_ENV = "ALERTDESK_BENCH_SCALE"  # `make bench SCALE=10`: 10M alerts, a database of its own


def scale() -> int:
    """How many millions of historical alerts the bench data holds (1 unless SCALE is set)."""
    raw = os.environ.get(SCALE_ENV, "").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise SystemExit(f"{SCALE_ENV} must be a whole number from 1 to 100 (got {raw!r})")
    return int(raw)


def bench_db() -> str:
    """The embedded bench database's name: one per scale, so a 10M run keeps the 1M data."""
    return BENCH_DB if scale() == 1 else f"{BENCH_DB}_x{scale()}"


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def bench_url() -> sa.URL:
    """The bench database URL (starting the embedded server when no URL is configured)."""
    env = os.environ.get(ENV)
    if env:
        url = sa.make_url(core_db.normalize_url(env))
        main = config.database_url_env()
        if main and sa.make_url(core_db.normalize_url(main)) == url:
            raise SystemExit(f"{ENV} must not be the main database (ALERTDESK_DATABASE_URL)")
        return url
    server = core_db.embedded_server(config.data_dir() / "bench-pgdata")
    return sa.make_url(core_db.normalize_url(server.get_uri(bench_db())))


def prepare(force: bool = False) -> sa.Engine:
    """Create the bench database when missing (drop it first with ``force``), migrate it,
    and return its engine."""
    url = bench_url()
    name = url.database or bench_db()
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if force:
                log(f"dropping database {name}")
                conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
            exists = conn.scalar(sa.text("select 1 from pg_database where datname = :n"),
                                 {"n": name})
            if not exists:
                conn.execute(sa.text(f'create database "{name}"'))
    finally:
        admin.dispose()
    engine = core_db.get_engine(url.render_as_string(hide_password=False))
    upgrade(engine)
    return engine


def recreate(engine: sa.Engine) -> sa.Engine:
    """Drop and recreate the bench database (alert_events is append-only: no TRUNCATE)."""
    engine.dispose()
    return prepare(force=True)
