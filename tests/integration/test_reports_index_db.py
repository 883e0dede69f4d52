"""The index-only report paths (migration 0031: ``final_duplicate_count`` + the covering index
``alerts_reports``) give the same figures as the exact queries over the table.

The history spans New York's spring-forward day (2026-03-08, 23 h) and UTC/NY day edges,
two services and several severities; some alerts are still open and bumped by duplicates,
one was resolved, reopened, bumped again and resolved again (its settled count changed
after it first settled), one was closed, one reopened and left open.
"""
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.health.store import daily_scores
from core.reports import top
from core.reports.stats import Scope, scope, statistics
from core.reports.top import top_alerts
from tests.factories import act, make_alert, make_users

NY = "America/New_York"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)


def _fire(engine: sa.Engine, at: datetime, fp: str, n: int = 1, **kw: Any) -> int:
    ids = {make_alert(engine, at + timedelta(seconds=i), fingerprint=fp, **kw) for i in range(n)}
    assert len(ids) == 1
    return ids.pop()


@pytest.fixture
def history(engine: sa.Engine) -> None:
    make_users(engine)
    web = {"service": "web", "device_id": "web-01"}
    for day, hour in ((6, 4), (6, 5), (7, 4), (8, 4), (8, 5), (9, 3), (9, 4)):  # NY midnights
        a = _fire(engine, utc(day, hour, 59), f"disk-{day}-{hour}", 2)
        act(engine, a, "acknowledge", utc(day, hour, 59) + timedelta(seconds=60 * day))
        act(engine, a, "resolve", utc(day, hour, 59) + timedelta(seconds=700 * hour))
        b = _fire(engine, utc(day, hour), "cpu", 1 + day % 3, severity="high", **web)
        act(engine, b, "resolve", utc(day, hour) + timedelta(seconds=9000))
    again = _fire(engine, utc(7, 12), "flappy", 3, severity="medium")
    act(engine, again, "resolve", utc(7, 13))
    act(engine, again, "reopen", utc(7, 14))
    assert _fire(engine, utc(7, 15), "flappy", 4, severity="medium") == again
    act(engine, again, "resolve", utc(7, 16))
    closed = _fire(engine, utc(8, 6), "closed-one", 2, severity="low", **web)
    act(engine, closed, "resolve", utc(8, 7))
    act(engine, closed, "close", utc(8, 8))
    left_open = _fire(engine, utc(8, 9), "reopened-open", 2, severity="critical", **web)
    act(engine, left_open, "resolve", utc(8, 10))
    act(engine, left_open, "reopen", utc(8, 11))
    _fire(engine, utc(8, 12), "reopened-open", 3, severity="critical", **web)
    _fire(engine, utc(9, 20), "open-new", 5, severity="medium", **web)
    # a source's own fingerprint that moves: web-01, then another service, then another device
    for i, place in enumerate(({**web}, {"service": "db", "device_id": "web-01"},
                               {"service": "web", "device_id": "web-02"}, {**web})):
        moved = _fire(engine, utc(9, 5 + i), "moving", 1 + i, severity="low", **place)
        act(engine, moved, "resolve", utc(9, 5 + i, 30))
    ack = _fire(engine, utc(9, 21), "open-acked", 2, severity="low")
    act(engine, ack, "acknowledge", utc(9, 22))


def run(engine: sa.Engine, fn, *args, **kw):  # type: ignore[no-untyped-def]
    with core_db.transaction(engine) as ses:
        return fn(ses, *args, **kw)


EXACT_STATS = """
select count(*) as alerts, coalesce(sum(duplicate_count), 0) as occurrences,
       count(*) filter (where state in ('new','acknowledged','investigating','silenced')) as open,
       array_agg(distinct state) as states, count(tta_s) as tta_n, avg(ttr_s) as ttr_avg,
       percentile_cont(array[0.5, 0.9]) within group (order by tta_s) as tta_pct,
       percentile_cont(array[0.5, 0.9]) within group (order by ttr_s) as ttr_pct
from alerts where {where}
"""


def _exact_stats(engine: sa.Engine, sc: Scope) -> dict[str, Any]:
    where, params = sc.where()
    with engine.connect() as c:
        return dict(c.execute(sa.text(EXACT_STATS.format(where=where)), params).mappings().one())


SCOPES = [(utc(6, 5), utc(10, 4), None, None), (utc(7, 4, 59), utc(8, 10), None, None),
          (utc(6, 0), utc(10, 0), "web", None), (utc(6, 0), utc(10, 0), None, "critical"),
          (utc(8, 5), utc(9, 4), "web", "high")]


@pytest.mark.parametrize("start,end,service,severity", SCOPES)
def test_statistics_match_the_exact_query(engine, history, start, end, service,
                                          severity) -> None:
    sc = scope(start, end, NOW, service, severity)
    got, exact = run(engine, statistics, sc), _exact_stats(engine, sc)
    assert exact["alerts"] > 0
    assert (got["alerts"], got["occurrences"], got["open"]) == (
        exact["alerts"], exact["occurrences"], exact["open"])
    assert got["acknowledgement_s"]["count"] == exact["tta_n"]
    for key, pct in (("acknowledgement_s", "tta_pct"), ("resolution_s", "ttr_pct")):
        p50, p90 = exact[pct] or (None, None)
        assert (got[key]["p50"], got[key]["p90"]) == (
            None if p50 is None else round(p50, 3), None if p90 is None else round(p90, 3))
    assert got["mttr_s"] == (None if exact["ttr_avg"] is None else round(exact["ttr_avg"], 3))


EXACT_TOP = """
select fingerprint, count(*) as alerts, sum(duplicate_count) as occurrences,
       sum(reopen_count) as reopens, count(ttr_s) as resolved, avg(ttr_s) as mttr_s,
       max(id) as latest_id
from alerts where {where} group by fingerprint {having}
order by {order}, fingerprint limit :limit
"""
ORDERS = {"occurrences": ("occurrences desc, count(*) desc", ""),
          "resolution_time": ("avg(ttr_s) desc", "having count(ttr_s) > 0")}


@pytest.mark.parametrize("split_below", [0, 1000])  # 0: the plain hash; 1000: the split
@pytest.mark.parametrize("by", ORDERS)
@pytest.mark.parametrize("start,end,service,severity", SCOPES)
def test_top_alerts_match_the_exact_query(engine, history, by, start, end, service,
                                          severity, split_below, monkeypatch) -> None:
    monkeypatch.setattr(top, "SPLIT_BELOW", split_below)
    sc = scope(start, end, NOW, service, severity)
    where, params = sc.where()
    order, having = ORDERS[by]
    with engine.connect() as c:
        exact = c.execute(sa.text(EXACT_TOP.format(where=where, order=order, having=having)),
                          {**params, "limit": 4}).mappings().all()
    got = run(engine, top_alerts, sc, by, 4)
    keys = ("fingerprint", "alerts", "occurrences", "reopens", "resolved", "latest_id")
    assert [tuple(g[k] for k in keys) for g in got] == [tuple(e[k] for k in keys) for e in exact]
    assert [g["mttr_s"] for g in got] == [
        None if e["mttr_s"] is None else round(e["mttr_s"], 3) for e in exact]


EXACT_DAY_FACTS = """
with fp as (
    select service, (created_at at time zone :tz)::date as day, count(*) as n,
           count(*) filter (where coalesce(acknowledged_at, resolved_at, :now) > tta_due_at
                               or coalesce(resolved_at, :now) > ttr_due_at) as breaches,
           count(ttr_s) as resolved, sum(ttr_s / ttr_target_s) as ratio,
           count(*) - 1 + sum(reopen_count) + count(*) filter (where flapping) as recurring
    from alerts where created_at >= :first and created_at < :last {where}
    group by 1, 2, fingerprint)
select service, day, sum(n) as alerts, sum(breaches) as breaches, sum(resolved) as resolved,
       sum(ratio) / nullif(sum(resolved), 0) as mttr_ratio, sum(recurring) as recurring
from fp group by 1, 2
"""


@pytest.mark.parametrize("tz,service", [(NY, None), ("UTC", None), (NY, "web")])
def test_health_trend_facts_match_the_exact_query(engine, history, tz, service) -> None:
    got = run(engine, daily_scores, "service", 5, tz, NOW, service)
    first, last = got[next(iter(got))][0]["day_start"], got[next(iter(got))][-1]["day_end"]
    where = " and service = :service" if service else ""
    with engine.connect() as c:
        rows = c.execute(sa.text(EXACT_DAY_FACTS.format(where=where)), {
            "tz": tz, "now": NOW, "first": first, "last": last, "service": service}).mappings()
        exact = {(r["service"], r["day"]): r for r in rows}
    assert exact
    for svc, days in got.items():
        for d in days:
            e = exact.pop((svc, d["day"]), None)
            if e is None:
                assert d["alerts"] == 0
                continue
            assert (d["alerts"], d["breaches"], d["resolved"], d["recurring"]) == (
                e["alerts"], e["breaches"], e["resolved"], e["recurring"])
            assert d["mttr_ratio"] == (None if e["mttr_ratio"] is None
                                       else round(e["mttr_ratio"], 3))
    assert not exact
    assert date(2026, 3, 8) in {d["day"] for d in next(iter(got.values()))}


def test_a_duplicate_on_an_open_alert_stays_a_hot_update(engine) -> None:
    """The index's settled count is NULL while open, so the bump changes no indexed column."""
    make_users(engine)
    a = _fire(engine, utc(9, 1), "hot", 2)
    with core_db.transaction(engine) as s:
        s.execute(sa.text("update alerts set duplicate_count = duplicate_count + 1, "
                          "last_seen_at = :t, updated_at = :t where id = :id"),
                  {"t": utc(9, 2), "id": a})
        upd, hot = s.execute(sa.text("select n_tup_upd, n_tup_hot_upd from "
                                     "pg_stat_xact_user_tables where relname = 'alerts'")).one()
        settled = s.scalar(sa.text("select final_duplicate_count from alerts where id = :id"),
                           {"id": a})
    assert upd >= 1 and (hot, settled) == (upd, None)
    act(engine, a, "resolve", utc(9, 3))
    with engine.connect() as c:
        assert c.scalar(sa.text("select final_duplicate_count from alerts where id = :id"),
                        {"id": a}) == 3


def test_an_upgrade_across_the_rewrite_vacuums_alerts_for_index_only_reads(engine,
                                                                           history) -> None:
    """0031 rewrites ``alerts`` (a stored column), which empties its visibility map: until a
    VACUUM, every index-only read of a report goes to the heap. The upgrade that applies
    it vacuums the table itself; an upgrade with nothing to apply vacuums nothing."""
    from alembic import command

    from core.migrations.apply import alembic_config, upgrade, vacuum_rewritten

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0030")
        conn.commit()
    upgrade(engine)  # applies 0031 again: a rewrite of the table with its alerts in it
    with engine.connect() as conn:
        pages, visible = conn.execute(sa.text(
            "select relpages, relallvisible from pg_class where relname = 'alerts'")).one()
    assert pages > 0 and visible == pages  # vacuumed: every page all-visible
    assert vacuum_rewritten(engine, "0033") == []
    assert vacuum_rewritten(engine, "0030") == ["alerts"]


POINTERS = "select id, prev_at, prev_service_at, prev_device_at from alerts order by id"


def test_the_upgrade_links_the_history_as_ingest_links_new_alerts(engine, history) -> None:
    """0033 adds the previous-occurrence pointers and fills them for the alerts already
    there: the same values ingest gave the alerts it created (core/alerts/recurrence.py)."""
    from alembic import command

    from core.migrations.apply import alembic_config, upgrade

    with engine.connect() as conn:
        by_ingest = conn.execute(sa.text(POINTERS)).all()
        repeats = conn.scalar(sa.text(
            "select count(*) - count(distinct (fingerprint, service)) from alerts"))
    assert repeats >= 5  # "cpu" fired again after its alert settled; "moving" came back
    moved = {r.prev_service_at for r in by_ingest} - {r.prev_device_at for r in by_ingest}
    assert moved  # pointers that differ by key: the probes of a moved fingerprint
    assert sum(1 for r in by_ingest if r.prev_service_at) == repeats
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0032")
        conn.commit()
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text(POINTERS)).all() == by_ingest


def test_top_alerts_stay_exact_when_a_pointer_was_skipped(engine, history) -> None:
    """A pointer skipped in a race (core/alerts/recurrence.py) makes the split take a repeating
    identity for single ones; the result would name it twice, so the plain hash answers."""
    with engine.begin() as c:
        c.execute(sa.text("update alerts set prev_at = null where fingerprint = 'cpu'"))
    sc = scope(utc(6, 0), utc(10, 0), NOW)
    where, params = sc.where()
    with engine.connect() as c:
        exact = c.execute(sa.text(EXACT_TOP.format(where=where, order=ORDERS["occurrences"][0],
                                                   having="")), {**params, "limit": 20}).all()
    got = run(engine, top_alerts, sc, "occurrences", 20)
    assert [(g["fingerprint"], g["alerts"], g["occurrences"]) for g in got] == [
        (e.fingerprint, e.alerts, e.occurrences) for e in exact]
    assert len({g["fingerprint"] for g in got}) == len(got)
    assert any(g["fingerprint"] == "cpu" and g["alerts"] > 1 for g in got)


def test_retention_relinks_the_alert_after_a_deleted_one(engine, history) -> None:
    from core.retention.sql import delete_alerts

    def cpu() -> list[sa.Row]:  # type: ignore[type-arg]
        with engine.connect() as c:
            return list(c.execute(sa.text(
                "select id, created_at, prev_at, prev_service_at, prev_device_at from alerts "
                "where fingerprint = 'cpu' order by created_at")))
    first, second, third = cpu()[:3]
    assert third.prev_at == second.created_at
    with core_db.transaction(engine) as ses:
        delete_alerts(ses, [second.id])
    after = {r.id: (r.prev_at, r.prev_service_at, r.prev_device_at) for r in cpu()}
    assert second.id not in after and after[third.id] == (first.created_at,) * 3
    with core_db.transaction(engine) as ses:  # and with it the first: nothing before it
        delete_alerts(ses, [first.id])
    assert {r.id: r.prev_at for r in cpu()}[third.id] is None
