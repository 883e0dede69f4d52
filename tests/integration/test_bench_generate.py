"""The benchmark generator on a small scale: rows pass every CHECK, timelines replay the
lifecycle, and the fast path (indexes dropped and rebuilt) leaves the schema as it was."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
import sqlalchemy as sa

from bench import generate

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
OPEN = "('new','acknowledged','investigating','silenced')"


def _scalar(engine: sa.Engine, sql: str) -> object:
    with engine.connect() as conn:
        return conn.scalar(sa.text(sql))


def _indexes(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(sa.text(
            "select indexdef from pg_indexes where tablename in ('alerts', 'alert_events') "
            "union all select pg_get_constraintdef(oid) from pg_constraint "
            "where conrelid in ('alerts'::regclass, 'alert_events'::regclass)")))


@pytest.mark.parametrize("defer_at", [generate.DEFER_INDEXES_AT, 1])
def test_load_small(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, defer_at: int) -> None:
    monkeypatch.setattr(generate, "DEFER_INDEXES_AT", defer_at)
    schema = _indexes(engine)
    stats = generate.load(engine, historical=2_000, open_=50, seed=7, now=NOW, size=700)
    assert (stats.alerts, _scalar(engine, "select count(*) from alerts")) == (2_050, 2_050)
    assert _scalar(engine, "select count(*) from alert_events") == stats.events
    assert _scalar(engine, f"select count(*) from alerts where state in {OPEN}") == 50
    assert _indexes(engine) == schema
    # one 'created' event per alert, and it comes first
    assert _scalar(engine, """select count(*) from alerts a where 1 <> (select count(*)
        from alert_events e where e.alert_id = a.id and e.kind = 'created')""") == 0
    assert _scalar(engine, """select count(*) from alert_events e join alerts a
        on a.id = e.alert_id where e.at < a.created_at or e.at > :now""".replace(
        ":now", f"'{NOW.isoformat()}'")) == 0
    # the last transition leads to the alert's state
    assert _scalar(engine, """select count(*) from alerts a where a.state <> coalesce((
        select e.to_state from alert_events e where e.alert_id = a.id
          and e.kind in ('created', 'transition') order by e.at desc, e.id desc limit 1), '')
        """) == 0
    # acknowledged_at is the first human response (acknowledge, investigate or resolve)
    assert _scalar(engine, """select count(*) from alerts a where a.acknowledged_at is
        distinct from (select min(e.at) from alert_events e where e.alert_id = a.id
          and e.kind = 'transition' and e.actor like 'oper%'
          and e.to_state in ('acknowledged', 'investigating', 'resolved'))""") == 0
    assert _scalar(engine, "select count(*) from alerts where state = 'closed'") > 1_000
    assert _scalar(engine, "select count(*) from alerts where acknowledged_at is null "
                           "and state in ('resolved', 'closed')") > 300
    assert _scalar(engine, "select last_value from alerts_id_seq") == 2_050


def test_chunks_are_reproducible() -> None:
    def first(seed: int) -> dict[str, np.ndarray]:
        return next(generate.chunks(500, 10, seed, 1, 1_790_000_000_000, 200)).alerts

    a, b, c = first(1), first(1), first(2)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["created_at"], c["created_at"])
