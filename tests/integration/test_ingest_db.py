"""The batch ingest path on a real PostgreSQL: per-alert truth in groups, dedup under
concurrency, source resolution, the flap window, all-or-nothing batches."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.actor import Actor
from core.alerts.model import AlertIn
from core.errors import FieldError
from core.ingest.batch import ingest_batch
from core.ingest.signal import Signal
from core.ingest.sources import alertmanager
from tests.conftest import T0
from tests.factories import act, event_rows, make_users, row

AM = Actor("key:am", "operator", "alertmanager", is_human=False)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def am_payload(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def run(engine: sa.Engine, signals: list[Signal], now=T0, **kw):  # type: ignore[no-untyped-def]
    with core_db.transaction(engine) as s:
        return ingest_batch(s, signals, AM, now, **kw)


def sig(fp: str, status: str = "firing", **kw) -> Signal:  # type: ignore[no-untyped-def]
    return Signal(AlertIn(**{"summary": f"alert {fp}", "severity": "high", "source": "t",
                             "fingerprint": fp, **kw}), status)


def states(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as c:
        return dict(c.execute(sa.text("select fingerprint, state from alerts")).all())


def test_group_with_one_resolved_member_resolves_only_that_member(engine: sa.Engine) -> None:
    first = am_payload("alertmanager_v4_firing.json")
    assert run(engine, alertmanager.parse(first)).summary()["created"] == 3
    result = run(engine, alertmanager.parse(am_payload("alertmanager_v4_group_one_resolved.json")),
                 now=T0 + timedelta(seconds=30))
    assert result.summary() == {"created": 0, "deduplicated": 2, "reopened": 0, "resolved": 1,
                                "unmatched_resolved": 0}
    assert states(engine) == {"am:6f6f2af22e1af178": "new", "am:a0f9b2c7e2038d0f": "resolved",
                              "am:d2a344f0a62de346": "new"}
    resolved_id = result.ids["am:a0f9b2c7e2038d0f"]
    last = event_rows(engine, resolved_id)[-1]
    assert (last.source, last.actor, last.to_state) == ("alertmanager", "key:am", "resolved")
    assert row(engine, resolved_id).acknowledged_at is None  # a source is not a human response


def test_source_resolution_keeps_the_operators_ack_in_the_timeline(engine: sa.Engine) -> None:
    make_users(engine)
    alert_id = run(engine, [sig("fp")]).created[0]
    act(engine, alert_id, "acknowledge", T0 + timedelta(minutes=1))
    run(engine, [sig("fp", "resolved")], now=T0 + timedelta(minutes=9))
    r = row(engine, alert_id)
    assert r.state == "resolved" and r.acknowledged_at == T0 + timedelta(minutes=1)
    assert [(e.kind, e.to_state, e.source) for e in event_rows(engine, alert_id)] == [
        ("created", "new", "alertmanager"), ("transition", "acknowledged", "ui"),
        ("assign", "acknowledged", "ui"), ("transition", "resolved", "alertmanager")]


def test_silenced_alert_resolved_by_source_leaves_silence(engine: sa.Engine) -> None:
    make_users(engine)
    alert_id = run(engine, [sig("fp")]).created[0]
    act(engine, alert_id, "silence", T0, until=T0 + timedelta(hours=1))
    run(engine, [sig("fp", "resolved")], now=T0 + timedelta(minutes=2))
    r = row(engine, alert_id)
    assert (r.state, r.silenced_until, r.state_before_silence) == ("resolved", None, None)


def test_duplicates_in_and_across_batches_are_counted(engine: sa.Engine) -> None:
    result = run(engine, [sig("a"), sig("a"), sig("b"), sig("a")])
    assert len(result.created) == 2
    run(engine, [sig("a")], now=T0 + timedelta(minutes=1))
    with engine.connect() as c:
        counts = dict(c.execute(sa.text("select fingerprint, duplicate_count from alerts")).all())
        last_seen = c.scalar(sa.text("select last_seen_at from alerts where fingerprint = 'a'"))
    assert counts == {"a": 4, "b": 1} and last_seen == T0 + timedelta(minutes=1)


def test_two_hundred_concurrent_ingests_make_one_alert(engine: sa.Engine) -> None:
    def one(i: int) -> None:
        run(engine, [sig("storm", summary="same alert, many senders")], now=T0 + timedelta(
            milliseconds=i))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(one, range(200)))
    with engine.connect() as c:
        rows = c.execute(sa.text("select duplicate_count from alerts")).all()
        created = c.scalar(sa.text("select count(*) from alert_events where kind = 'created'"))
    assert [r.duplicate_count for r in rows] == [200] and created == 1


def test_flap_window_reopens_then_a_later_fire_opens_a_new_alert(engine: sa.Engine) -> None:
    first = run(engine, [sig("f")]).created[0]
    run(engine, [sig("f", "resolved")], now=T0 + timedelta(minutes=1))
    again = run(engine, [sig("f")], now=T0 + timedelta(minutes=3))
    assert again.reopened == [first] and again.created == []
    r = row(engine, first)
    assert (r.state, r.reopen_count, r.resolved_at) == ("new", 1, None)
    assert event_rows(engine, first)[-1].note == "fired again within the flap window"
    run(engine, [sig("f", "resolved")], now=T0 + timedelta(minutes=4))
    later = run(engine, [sig("f")], now=T0 + timedelta(minutes=30))
    assert later.created and later.created[0] != first and later.reopened == []
    assert (row(engine, first).state, row(engine, later.created[0]).state) == ("resolved", "new")


def test_closed_alerts_are_not_reopened_by_the_source(engine: sa.Engine) -> None:
    make_users(engine)
    first = run(engine, [sig("c")]).created[0]
    act(engine, first, "resolve", T0 + timedelta(seconds=30))
    act(engine, first, "close", T0 + timedelta(seconds=40))
    again = run(engine, [sig("c")], now=T0 + timedelta(minutes=1))
    assert again.created and again.created[0] != first and row(engine, first).state == "closed"


def test_a_bad_alert_refuses_the_whole_batch(engine: sa.Engine) -> None:
    with pytest.raises(FieldError) as err:
        run(engine, [sig("ok-1"), sig("ok-2"), sig("bad", severity="urgent")])
    assert err.value.field == "alerts[2].severity"
    assert states(engine) == {}


def test_resolved_for_unknown_alert_is_counted_not_created(engine: sa.Engine) -> None:
    result = run(engine, [sig("ghost", "resolved")])
    assert result.unmatched_resolved == 1 and states(engine) == {}


def test_hostile_strings_are_stored_verbatim(engine: sa.Engine) -> None:
    evil = "'; drop table alerts; -- **bold** <img src=x onerror=alert(1)> ünïcødé 🚨"
    result = run(engine, [sig("evil", summary=evil, labels={"note": evil})])
    r = row(engine, result.created[0])
    assert r.summary == evil and r.labels == {"note": evil}


@pytest.mark.parametrize("prepared", ["1", "0"])
def test_ingest_statements_prepared_per_connection_or_sent_as_text(
        engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, prepared: str) -> None:
    """With prepared statements (the default) each connection PREPAREs the ingest
    statements once and EXECUTEs them after; ALERTDESK_PREPARED=0 (for poolers in
    transaction mode) sends them as text. The outcome is the same either way."""
    monkeypatch.setenv("ALERTDESK_PREPARED", prepared)
    with engine.connect() as conn:  # one connection for all three batches
        for n, now in enumerate((T0, T0 + timedelta(seconds=5), T0 + timedelta(seconds=9))):
            with core_db.session_factory(engine)(bind=conn) as s:
                result = ingest_batch(s, [sig("p-1"), sig(f"p-new-{n}"),
                                          sig("p-gone", "resolved" if n == 2 else "firing")],
                                      AM, now)
                s.commit()
            assert result.summary()["created"] == (3 if n == 0 else 1)
        names = set(conn.scalars(sa.text("select name from pg_prepared_statements")))
    expected = {"alertdesk_ingest_context", "alertdesk_ingest_lookup",
                "alertdesk_ingest_upsert", "alertdesk_ingest_resolve"}
    assert (names >= expected) if prepared == "1" else not (names & expected)
    assert states(engine) == {"p-1": "new", "p-new-0": "new", "p-new-1": "new",
                              "p-new-2": "new", "p-gone": "resolved"}
    with engine.connect() as c:
        assert c.scalar(sa.text("select duplicate_count from alerts where fingerprint = 'p-1'")) == 3


def test_prepared_statement_errors_surface_as_sqlalchemy_errors(engine: sa.Engine) -> None:
    """Driver errors keep SQLAlchemy's types (run_transaction retries on them, the API maps
    them), and the statement works again in the next transaction."""
    from core.prepared import Prepared

    ratio = Prepared("alertdesk_test_ratio", "select 10 / cast(:n as int) as q", {"n": "int"})
    with pytest.raises(sa.exc.DataError) as err:
        with core_db.transaction(engine) as s:
            ratio.rows(s, {"n": 0})
    assert getattr(err.value.orig, "pgcode", None) == "22012"  # division_by_zero
    with core_db.transaction(engine) as s:
        assert ratio.rows(s, {"n": 5}) == [(2,)]
