"""The report figures over a history whose alert identities repeat, as a NOC's checks do.

The bench history's fingerprints never repeat (each embeds its alert's id), which is the
worst case for per-identity work and the best for anything that skips it. This copy of the
bench database (``<bench database>_repeats``) rewrites every settled alert's fingerprint to
one of 25 per device (~20k identities, ~17 alerts each in 30 days) and links the
previous-occurrence pointers as the demo seed does (core/alerts/recurrence.py); the open
alerts keep theirs. It is built from the bench database as a template on first use (~4-5
min here: two passes over the 1M rows) and again when the bench data was regenerated.

- ``repeats_identities_30d``: distinct fingerprints of the last 30 days;
- ``repeats_top_alerts_30d_ms`` / ``repeats_top_alerts_resolution_30d_ms``: top 20 identities
  by occurrences / by resolution time over 30 days (bench/reports.py);
- ``repeats_health_trend_ms`` / ``repeats_health_trend_devices_ms``: 14 daily scores of every
  service / device; ``repeats_health_scores_ms`` / ``..._devices_ms``: 7-day scores
  (bench/health.py). Medians of ``runs``.
"""
from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from bench.measure import timings_ms
from bench.target import log
from core import db as core_db
from core.alerts.recurrence import link_history
from core.health.store import daily_scores, health_scores
from core.lifecycle import OPEN_SQL
from core.migrations.apply import upgrade
from core.reports.stats import scope
from core.reports.top import top_alerts

PER_DEVICE = 25
REWRITE_SQL = f"""
update alerts set fingerprint = 'rep:' || device_id || ':' || (id % {PER_DEVICE})
where state not in {OPEN_SQL}
"""
# The generated history's first instant, which only a regeneration changes (the other benches
# open, settle and delete alerts of their own, never the history's oldest).
STAMP = "select min(created_at) from alerts"


def rewrite(engine: sa.Engine) -> int:
    """Make the settled alerts' identities repeat and link them as ingest's history is linked
    (core/alerts/recurrence.py); returns the rows rewritten."""
    with core_db.transaction(engine) as s:
        changed = int(s.execute(sa.text(REWRITE_SQL)).rowcount)  # type: ignore[attr-defined]
        link_history(s)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("vacuum (analyze) alerts"))
    return changed


def ensure(bench: sa.Engine) -> sa.Engine:
    """The engine of the repeats database, (re)built when missing or older than the bench data.
    Disposes ``bench``'s pooled connections: a template must have none."""
    name = f"{bench.url.database}_repeats"
    url = bench.url.set(database=name)
    admin = sa.create_engine(bench.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(sa.text("select 1 from pg_database where datname = :n"),
                                 {"n": name})
        engine = sa.create_engine(url.render_as_string(hide_password=False))
        if exists and _stamp(engine) == _stamp(bench):
            upgrade(engine)  # a copy made before a migration gets it as the bench data did
            return engine
        engine.dispose()
        bench.dispose()
        log(f"building {name}: the bench history with repeating identities (first run only)")
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
            conn.execute(sa.text(f'create database "{name}" template "{bench.url.database}"'))
        rewrite(engine)
        return engine
    finally:
        admin.dispose()


def _stamp(engine: sa.Engine) -> tuple[Any, ...]:
    with engine.connect() as conn:
        return tuple(conn.execute(sa.text(STAMP)).one())


def run(bench: sa.Engine, runs: int = 10) -> dict[str, Any]:
    engine = ensure(bench)
    try:
        return measure(engine, runs)
    finally:
        engine.dispose()


def measure(engine: sa.Engine, runs: int) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    d30 = scope(now - timedelta(days=30), now, now)
    week = timedelta(days=7)
    cases: dict[str, Callable[[Any], object]] = {
        "repeats_top_alerts_30d": lambda s: top_alerts(s, d30, "occurrences", 20),
        "repeats_top_alerts_resolution_30d": lambda s: top_alerts(s, d30, "resolution_time"),
        "repeats_health_trend": lambda s: daily_scores(s, "service", 14, "UTC", now),
        "repeats_health_trend_devices": lambda s: daily_scores(s, "device", 14, "UTC", now),
        "repeats_health_scores": lambda s: health_scores(s, "service", week, now),
        "repeats_health_scores_devices": lambda s: health_scores(s, "device", week, now),
    }
    with engine.connect() as conn:
        out: dict[str, Any] = {"repeats_identities_30d": int(conn.scalar(sa.text(
            "select count(distinct fingerprint) from alerts where created_at >= :t"),
            {"t": now - timedelta(days=30)}) or 0)}
    for key, fn in cases.items():
        out[f"{key}_ms"] = round(statistics.median(timings_ms(_call(engine, fn), runs, 2)), 1)
    return out


def _call(engine: sa.Engine, fn: Callable[[Any], object]) -> Callable[[], None]:
    def once() -> None:
        with core_db.transaction(engine) as s:
            fn(s)
    return once
