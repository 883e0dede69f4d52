"""Several senders' parts in one transaction (core/ingest/together.py) on a real PostgreSQL:
each part gets the answer and leaves the rows it would have alone, in arrival order."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core import db as core_db
from core.actor import Actor
from core.alerts.model import AlertIn
from core.errors import FieldError
from core.ingest.batch import BatchResult, ingest_batch
from core.ingest.signal import Signal
from core.ingest.together import ingest_parts
from tests.conftest import T0

AM = Actor("key:grafana", "operator", "webhook", is_human=False)


def sig(fp: str, status: str = "firing", **kw) -> Signal:  # type: ignore[no-untyped-def]
    return Signal(AlertIn(**{"summary": f"alert {fp}", "severity": "high", "source": "t",
                             "fingerprint": fp, **kw}), status)


def state(engine: sa.Engine) -> list[tuple]:  # type: ignore[type-arg]
    """Every alert with what a sender's requests leave on it, and its events."""
    with engine.connect() as c:
        alerts = c.execute(sa.text(
            "select fingerprint, state, duplicate_count from alerts order by fingerprint, id"
        )).all()
        events = c.execute(sa.text(
            "select a.fingerprint, e.to_state from alert_events e join alerts a on a.id = "
            "e.alert_id order by a.fingerprint, e.id")).all()
    return [tuple(r) for r in alerts] + [tuple(r) for r in events]


def summary(r: BatchResult | FieldError) -> object:
    if isinstance(r, FieldError):
        return (r.field, r.message)
    return (r.summary(), len(r.ids), [fp for fp in r.order])


PARTS = [
    [sig("a"), sig("b")],
    [sig("c"), sig("a")],                 # a again: a duplicate counted on the open alert
    [sig("b", severity="nope")],          # refused alone
    [sig("a", "resolved")],               # then a resolve of a ...
    [sig("a"), sig("d")],                 # ... and its firing again: reopened, not merged
    [sig("e", "resolved")],               # a resolve that matches nothing
    [sig("c"), sig("c"), sig("f")],
]


def test_parts_together_answer_and_store_as_one_by_one(engine, db_url) -> None:
    now = T0
    with core_db.transaction(engine) as s:
        together = ingest_parts(s, PARTS, AM, now, field="alerts")
    shared = state(engine)

    with core_db.transaction(engine) as s:  # the same parts, one transaction each, afresh
        s.execute(sa.text("set local alertdesk.retention = 'on'"))
        s.execute(sa.text("delete from alert_events; delete from alerts; delete from alert_groups"))
    alone: list[BatchResult | FieldError] = []
    for part in PARTS:
        try:
            with core_db.transaction(engine) as s:
                alone.append(ingest_batch(s, part, AM, now, field="alerts"))
        except FieldError as err:
            alone.append(err)

    assert [summary(r) for r in together] == [summary(r) for r in alone]
    assert shared == state(engine)
    assert isinstance(together[2], FieldError) and together[2].field == "alerts[0].severity"
    assert [r.summary() for r in together if isinstance(r, BatchResult)][2:4] == [
        {"created": 0, "deduplicated": 0, "reopened": 0, "resolved": 1, "unmatched_resolved": 0},
        {"created": 1, "deduplicated": 0, "reopened": 1, "resolved": 0, "unmatched_resolved": 0}]


def test_one_round_when_fingerprints_are_disjoint(engine) -> None:
    """Disjoint parts share the statements: their alerts carry one transaction's instant,
    and a part's ids are only its own."""
    with core_db.transaction(engine) as s:
        results = ingest_parts(s, [[sig(f"x{i}")] for i in range(5)], AM, T0, field=None)
    with engine.connect() as c:
        rows = c.execute(sa.text("select fingerprint, id, created_at from alerts")).all()
    ids = {fp: id_ for fp, id_, _ in rows}
    assert [r.ids for r in results] == [{f"x{i}": ids[f"x{i}"]} for i in range(5)]  # type: ignore[union-attr]
    assert {created for _, _, created in rows} == {T0}
    assert all(r.created == [ids[f"x{i}"]] for i, r in enumerate(results))  # type: ignore[union-attr]


def test_flap_window_reopen_inside_one_transaction(engine) -> None:
    """A resolve and a firing of one alert from two requests: the second round sees the
    first's resolve, as it would have after the first's commit."""
    with core_db.transaction(engine) as s:
        ingest_batch(s, [sig("k")], AM, T0 - timedelta(minutes=1))
    with core_db.transaction(engine) as s:
        first, second = ingest_parts(s, [[sig("k", "resolved")], [sig("k")]], AM, T0,
                                     field=None)
    assert isinstance(first, BatchResult) and isinstance(second, BatchResult)
    assert first.resolved == second.reopened == [first.ids["k"]]
    with engine.connect() as c:
        assert c.execute(sa.text("select state from alerts where fingerprint = 'k'")
                         ).scalars().all() == ["new"]
