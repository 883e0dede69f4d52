"""Bulk-load a reproducible alert history with PostgreSQL COPY.

``python -m bench.generate [--force]`` fills the bench database (see ``bench.target``) with
1,000,000 finished alerts spread over the last 90 days plus 10,000 open ones from the last
two days, each with its event timeline. Chunks of ~50k alerts are synthesised with numpy
(``bench.synth``), written as COPY text into memory and streamed with ``copy_expert``; the
whole load is one transaction. Secondary indexes and foreign keys are dropped for a large
load and rebuilt from their own definitions afterwards (much faster than row by row).
"""
from __future__ import annotations

import argparse
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
import sqlalchemy as sa
from tqdm import tqdm  # type: ignore[import-untyped]

from bench import synth
from bench.catalog import NULL
from bench.events import EVENT_COLUMNS
from bench.target import log, prepare, recreate, scale

HISTORICAL, OPEN, SEED, CHUNK = 1_000_000, 10_000, 20261123, 50_000
HISTORY_DAYS = 90
DEFER_INDEXES_AT = 100_000          # below this, COPY into the indexed tables as they are
ALERT_COLUMNS = (
    "id", "fingerprint", "source", "service", "device_id", "severity", "state",
    "state_before_silence", "silenced_until", "summary", "labels", "assignee",
    "duplicate_count", "created_at", "last_seen_at", "acknowledged_at", "resolved_at",
    "closed_at", "updated_at", "tta_target_s", "ttr_target_s", "tta_due_at", "ttr_due_at")
TIMESTAMPS = {"silenced_until", "created_at", "last_seen_at", "acknowledged_at",
              "resolved_at", "closed_at", "updated_at", "tta_due_at", "ttr_due_at", "at"}


@dataclass
class LoadStats:
    alerts: int = 0
    events: int = 0
    seconds: float = 0.0


def _text_column(name: str, col: np.ndarray) -> list[str]:
    if name in TIMESTAMPS:
        text = np.datetime_as_string(col.astype("datetime64[ms]"), unit="ms", timezone="UTC")
        return np.where(col < 0, NULL, text).tolist()
    if col.dtype.kind in "iu":
        return list(map(str, col.tolist()))
    return col.tolist()


def copy_text(columns: dict[str, np.ndarray], names: tuple[str, ...]) -> str:
    """Rows in COPY text format (tab-separated, ``\\N`` for NULL; values hold no tabs,
    newlines or backslashes by construction)."""
    cols = [_text_column(name, columns[name]) for name in names]
    return "\n".join(map("\t".join, zip(*cols))) + "\n"


def _copy(cur: Any, table: str, names: tuple[str, ...], columns: dict[str, np.ndarray]) -> None:
    cur.copy_expert(f"copy {table} ({', '.join(names)}) from stdin",
                    io.StringIO(copy_text(columns, names)))


def chunks(historical: int, open_: int, seed: int, first_id: int, now_ms: int,
           size: int = CHUNK) -> Iterator[synth.Chunk]:
    """History in time slices (ids ascending with created_at), then the open alerts. Each
    chunk has its own generator seeded by (seed, chunk number): reproducible."""
    n_hist = -(-historical // size) if historical else 0
    lo, hi = now_ms - HISTORY_DAYS * 86_400_000, now_ms - 600_000
    next_id = first_id
    for k in range(n_hist):
        n = min(size, historical - k * size)
        a = lo + (hi - lo) * k // n_hist
        b = lo + (hi - lo) * (k + 1) // n_hist
        yield synth.historical(np.random.default_rng([seed, k]), next_id, n, a, b, now_ms)
        next_id += n
    for k in range(0, open_, size):
        n = min(size, open_ - k)
        yield synth.open_alerts(np.random.default_rng([seed, 1_000_000 + k]), next_id, n, now_ms)
        next_id += n


def _drop_secondary(cur: Any) -> list[str]:
    """Drop the FKs and non-constraint indexes of alerts/alert_events; return the DDL that
    recreates them, read from the catalog (so it always matches the migrations)."""
    cur.execute("""
        select format('alter table %I add constraint %I %s', conrelid::regclass, conname,
                      pg_get_constraintdef(oid)), format('alter table %I drop constraint %I',
                      conrelid::regclass, conname)
        from pg_constraint where contype = 'f' and conrelid::regclass::text in
            ('alerts', 'alert_events')
        union all
        select indexdef, format('drop index %I', indexname) from pg_indexes
        where schemaname = current_schema() and tablename in ('alerts', 'alert_events')
          and indexname not in (select conname from pg_constraint)""")
    rows = cur.fetchall()
    for _, drop in rows:
        cur.execute(drop)
    return [create for create, _ in sorted(rows, key=lambda r: r[0].startswith("alter"))]


def load(engine: sa.Engine, historical: int = HISTORICAL, open_: int = OPEN, seed: int = SEED,
         now: datetime | None = None, size: int = CHUNK, progress: bool = False) -> LoadStats:
    """Generate and COPY ``historical`` finished + ``open_`` open alerts with their events,
    in one transaction. Returns the row counts and the wall time."""
    started, stats = time.perf_counter(), LoadStats()
    now_ms = int((now or datetime.now(timezone.utc)).timestamp() * 1000)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        cur = raw.cursor()
        cur.execute("set local synchronous_commit = off; set local maintenance_work_mem = '256MB'")
        cur.execute("select coalesce(max(id), 0) + 1 from alerts")
        first_id = cur.fetchone()[0]
        rebuild = _drop_secondary(cur) if historical >= DEFER_INDEXES_AT else []
        bar = tqdm(total=historical + open_, unit="alerts", unit_scale=True, disable=not progress)
        with bar:
            for chunk in chunks(historical, open_, seed, first_id, now_ms, size):
                _copy(cur, "alerts", ALERT_COLUMNS, chunk.alerts)
                _copy(cur, "alert_events", EVENT_COLUMNS, chunk.events)
                stats.alerts += len(chunk.alerts["id"])
                stats.events += len(chunk.events["at"])
                bar.update(len(chunk.alerts["id"]))
        for ddl in rebuild:
            _timed(cur, ddl, progress)
        cur.execute("select setval(pg_get_serial_sequence('alerts', 'id'), "
                    "(select max(id) from alerts))")
    stats.seconds = time.perf_counter() - started
    return stats


def _timed(cur: Any, sql: str, verbose: bool) -> None:
    t0 = time.perf_counter()
    cur.execute(sql)
    if verbose:
        log(f"{time.perf_counter() - t0:6.1f} s  {sql[:90]}")


def vacuum_analyze(engine: sa.Engine, tables: str = "alerts, alert_events") -> float:
    """VACUUM (ANALYZE): fresh statistics and a visibility map, as autovacuum would leave."""
    t0 = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"vacuum (analyze) {tables}"))
    return time.perf_counter() - t0


def ensure(force: bool = False, historical: int | None = None, open_: int = OPEN,
           seed: int = SEED) -> tuple[sa.Engine, dict[str, Any]]:
    """The bench engine with the data loaded; generates only when fewer than
    ``historical`` alerts are there (a partial load is dropped and redone). ``historical``
    defaults to HISTORICAL times the scale (``ALERTDESK_BENCH_SCALE``, ``make bench SCALE=10``)."""
    historical = HISTORICAL * scale() if historical is None else historical
    engine = prepare(force)
    with engine.connect() as conn:
        have = conn.scalar(sa.text("select count(*) from alerts")) or 0
    if have >= historical:
        log(f"bench database already holds {have:,} alerts; not generating (--force redoes it)")
        return engine, {"generated": False}
    if have:
        log(f"bench database holds a partial load ({have:,} alerts); recreating it")
        engine = recreate(engine)
    log(f"generating {historical:,} historical + {open_:,} open alerts (seed {seed})")
    stats = load(engine, historical, open_, seed, progress=True)
    vacuum_s = vacuum_analyze(engine)
    log(f"loaded {stats.alerts:,} alerts and {stats.events:,} events in {stats.seconds:.1f} s; "
        f"vacuum analyze {vacuum_s:.1f} s")
    return engine, {"generated": True, "generate_s": round(stats.seconds, 1),
                    "vacuum_analyze_s": round(vacuum_s, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="drop and regenerate the data")
    parser.add_argument("--historical", type=int, default=None,
                        help=f"default {HISTORICAL:,} x ALERTDESK_BENCH_SCALE")
    parser.add_argument("--open", type=int, default=OPEN, dest="open_")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    ensure(args.force, args.historical, args.open_, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
