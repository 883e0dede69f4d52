"""The retention job on a real PostgreSQL: exactly the old closed/resolved history goes,
with every dependent row; open work, recent history and what still points at old alerts
stay; a dry run writes nothing; the append-only guards still hold outside the job."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core import db as core_db
from core import worker
from core.retention.cleanup import cleanup, parse_age
from core.suppression.inhibition_store import inhibitions_tick
from tests.conftest import T0
from tests.factories import MANAGER, act, make_alert, make_users

NOW = T0 + timedelta(days=120)
AGE = timedelta(days=90)
CUTOFF = NOW - AGE  # T0 + 30 days
TABLES = ("alerts", "alert_events", "alert_escalations", "notifications",
          "notification_attempts", "alert_groups")


def h(hours: float) -> Any:
    return T0 + timedelta(hours=hours)


def q(engine: sa.Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as c:
        return list(c.execute(sa.text(sql), params))


def per_alert(engine: sa.Engine, table: str, ids: list[int]) -> int:
    col = "n.alert_id" if table == "notification_attempts" else "alert_id"
    src = ("notification_attempts x join notifications n on n.id = x.notification_id"
           if table == "notification_attempts" else table)
    return int(q(engine, f"select count(*) from {src} where {col} = any(:ids)", ids=ids)[0][0])


def snapshot(engine: sa.Engine) -> dict[str, int]:
    return {t: int(q(engine, f"select count(*) from {t}")[0][0]) for t in TABLES}


def group_of(engine: sa.Engine, alert_id: int) -> int:
    return int(q(engine, "select group_id from alerts where id = :i", i=alert_id)[0][0])


@pytest.fixture
def history(engine: sa.Engine) -> dict[str, int]:
    """Hand-built: T0 is 120 days before NOW; the cutoff of 90d is T0 + 30 days."""
    make_users(engine)
    a = {}
    # old resolved, critical: the seeded policy escalates (escalation row, console + slack
    # notifications, their delivery attempts) before it is resolved
    a["old_resolved"] = make_alert(engine, T0, summary="disk full", service="billing")
    worker.tick(engine, T0)
    act(engine, a["old_resolved"], "resolve", h(1))
    # old closed, info (no policy): events created, resolve, close
    a["old_closed"] = make_alert(engine, h(2), summary="cert expires", severity="info")
    act(engine, a["old_closed"], "resolve", h(3))
    act(engine, a["old_closed"], "close", h(4))
    # recent resolved: ten days old
    a["recent"] = make_alert(engine, NOW - timedelta(days=10), summary="fan", severity="info")
    act(engine, a["recent"], "resolve", NOW - timedelta(days=10) + timedelta(hours=1))
    # old but still open (acknowledged 120 days ago)
    a["old_open"] = make_alert(engine, h(5), summary="ups on battery", severity="low")
    act(engine, a["old_open"], "acknowledge", h(5.1))
    # one group, two members: an old resolved one and an open one
    labels = {"alertname": "HighLatency"}
    a["grouped_old"] = make_alert(engine, h(6), summary="latency", severity="info",
                                  service="web", device_id="web-1", labels=labels)
    a["grouped_open"] = make_alert(engine, h(6.01), summary="latency", severity="info",
                                   service="web", device_id="web-2", labels=labels)
    act(engine, a["grouped_old"], "resolve", h(7))
    # the cutoff to the second: resolved exactly at it stays, a second before it goes
    a["at_cutoff"] = make_alert(engine, CUTOFF - timedelta(hours=2), summary="at", severity="info")
    act(engine, a["at_cutoff"], "resolve", CUTOFF)
    a["before_cutoff"] = make_alert(engine, CUTOFF - timedelta(hours=2), summary="before",
                                    severity="info")
    act(engine, a["before_cutoff"], "resolve", CUTOFF - timedelta(seconds=1))
    # an old NodeDown inhibits a disk alert on its device; the disk alert is resolved while
    # inhibited (it keeps the mark), then closed only last week: it stays, so must its source
    a["source"] = make_alert(engine, h(8), summary="node down", severity="info",
                             device_id="db-09", labels={"alertname": "NodeDown"})
    a["target"] = make_alert(engine, h(8.1), summary="disk slow", severity="info",
                             device_id="db-09", labels={"alertname": "DiskSlow"})
    with core_db.transaction(engine) as s:
        inhibitions_tick(s, h(8.2))
    act(engine, a["target"], "resolve", h(9))
    act(engine, a["source"], "resolve", h(10))
    act(engine, a["target"], "close", NOW - timedelta(days=7))
    return a


GONE = ("old_resolved", "old_closed", "grouped_old", "before_cutoff")
STAY = ("recent", "old_open", "grouped_open", "at_cutoff", "source", "target")


def test_fixture_is_what_it_says(engine: sa.Engine, history: dict[str, int]) -> None:
    [(inhibited_by,)] = q(engine, "select inhibited_by from alerts where id = :i",
                          i=history["target"])
    assert inhibited_by == history["source"]
    assert group_of(engine, history["grouped_old"]) == group_of(engine, history["grouped_open"])
    old = [history["old_resolved"]]
    assert [per_alert(engine, t, old) for t in ("alert_escalations", "notifications",
                                                 "notification_attempts")] == [1, 3, 3]


def test_cleanup_removes_exactly_the_old_closed_history(engine: sa.Engine,
                                                        history: dict[str, int]) -> None:
    gone = [history[k] for k in GONE]
    before = snapshot(engine)
    expected = {t: per_alert(engine, t, gone) for t in TABLES if t not in ("alerts", "alert_groups")}
    # hand-counted events: created, escalation (tier 1), resolve for the critical one;
    # created + resolve (+ close) for the info ones
    assert expected == {"alert_events": 3 + 3 + 2 + 2, "alert_escalations": 1,
                        "notifications": 3, "notification_attempts": 3}
    assert per_alert(engine, "alert_events", [history["old_closed"]]) == 3
    assert per_alert(engine, "alert_events", [history["before_cutoff"]]) == 2
    groups_gone = [group_of(engine, history[k]) for k in ("old_resolved", "old_closed",
                                                        "before_cutoff")]
    kept_group = group_of(engine, history["grouped_open"])

    report = cleanup(engine, AGE, NOW, MANAGER, batch_size=3)

    assert report["deleted"] == {"alerts": 4, **expected, "alert_groups": 3}
    assert report["kept_referenced"] == 1          # the NodeDown its closed target points at
    assert report["cutoff"] == CUTOFF and report["dry_run"] is False
    assert report["older_than"] == "90d" and report["duration_s"] >= 0
    left = {r[0] for r in q(engine, "select id from alerts")}
    assert left == {history[k] for k in STAY}
    after = snapshot(engine)
    assert {t: before[t] - after[t] for t in TABLES} == report["deleted"]
    assert q(engine, "select id from alert_groups where id = any(:ids)", ids=groups_gone) == []
    [(members, open_, status)] = q(engine, "select member_count, open_count, status "
                                           "from alert_groups where id = :g", g=kept_group)
    assert (members, open_, status) == (1, 1, "active")   # the counters saw the delete
    assert cleanup(engine, AGE, NOW, MANAGER)["deleted"] == dict.fromkeys(TABLES, 0)


def test_dry_run_reports_the_same_and_deletes_nothing(engine: sa.Engine,
                                                      history: dict[str, int]) -> None:
    before = snapshot(engine)
    dry = cleanup(engine, AGE, NOW, MANAGER, dry_run=True, batch_size=4)
    assert snapshot(engine) == before
    assert q(engine, "select count(*) from audit_log where entity = 'retention'") == [(0,)]
    real = cleanup(engine, AGE, NOW, MANAGER)
    assert dry["dry_run"] is True and dry["deleted"] == real["deleted"]
    assert dry["deleted"]["alerts"] == 4 and dry["deleted"]["alert_groups"] == 3
    assert dry["kept_referenced"] == real["kept_referenced"] == 1


def test_a_shorter_age_takes_more_and_open_alerts_never_go(engine: sa.Engine,
                                                           history: dict[str, int]) -> None:
    report = cleanup(engine, parse_age("1d"), NOW, MANAGER)
    # now the recent one, the one resolved at the old cutoff and the target closed 7 days
    # ago go too, and with the target its NodeDown source: only the open two are left
    assert report["deleted"]["alerts"] == 8 and report["kept_referenced"] == 0
    left = {r[0] for r in q(engine, "select id from alerts")}
    assert left == {history[k] for k in ("old_open", "grouped_open")}
    assert {r[0] for r in q(engine, "select state from alerts where id = any(:i)",
                            i=[history["old_open"], history["grouped_open"]])} \
        == {"acknowledged", "new"}


def test_an_empty_database_reports_zeros(engine: sa.Engine) -> None:
    report = cleanup(engine, AGE, NOW, MANAGER)
    assert report["deleted"] == dict.fromkeys(TABLES, 0) and report["kept_referenced"] == 0


def test_the_run_is_audited(engine: sa.Engine, history: dict[str, int]) -> None:
    cleanup(engine, AGE, NOW, MANAGER)
    [row] = q(engine, "select * from audit_log where entity = 'retention'")
    assert (row.actor, row.actor_role, row.action, row.at) == ("maria", "manager", "cleanup", NOW)
    assert row.entity_id == CUTOFF.isoformat() and row.note == "older than 90d"
    assert row.after["deleted"]["alerts"] == 4 and row.after["kept_referenced"] == 1


def refuses(engine: sa.Engine, sql: str, alert_id: int, match: str = "append-only") -> None:
    with pytest.raises(sa.exc.DBAPIError, match=match):
        with core_db.transaction(engine) as s:
            s.execute(sa.text(sql), {"i": alert_id})


REFUSED = ("update alert_events set note = 'x' where alert_id = :i",
           "delete from alert_events where alert_id = :i",
           "truncate alert_events cascade")


def test_append_only_guards_hold_outside_the_job(engine: sa.Engine,
                                                 history: dict[str, int]) -> None:
    old_id, open_id = history["old_resolved"], history["old_open"]
    for sql in (*REFUSED, "delete from notification_attempts where :i > 0",
                "update notification_attempts set error = 'x' where :i > 0"):
        refuses(engine, sql, old_id)
    cleanup(engine, AGE, NOW, MANAGER)
    act(engine, open_id, "investigate", NOW)                 # appending still works
    [(kinds,)] = q(engine, "select array_agg(kind order by id) from alert_events "
                           "where alert_id = :i", i=open_id)
    assert kinds == ["created", "transition", "assign", "transition"]
    for sql in REFUSED:
        refuses(engine, sql, open_id)
    # the sanctioned path lets DELETE through only; UPDATE stays refused even then
    with pytest.raises(sa.exc.DBAPIError, match="append-only: UPDATE"):
        with core_db.transaction(engine) as s:
            s.execute(sa.text("set local alertdesk.retention = 'on'"))
            s.execute(sa.text("update alert_events set note = 'x' where alert_id = :i"),
                      {"i": open_id})
    # SET LOCAL does not outlive its (committed) transaction on the pooled connection
    with core_db.transaction(engine) as s:
        s.execute(sa.text("set local alertdesk.retention = 'on'"))
    refuses(engine, "delete from alert_events where alert_id = :i", open_id)


def test_every_foreign_key_to_the_deleted_tables_is_handled(engine: sa.Engine) -> None:
    """A new FK to alerts/alert_groups/notifications must be taught to core/retention/sql.py."""
    rows = q(engine, """
        select c.confrelid::regclass::text, c.conrelid::regclass::text, a.attname
        from pg_constraint c join pg_attribute a
          on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
        where c.contype = 'f'
          and c.confrelid::regclass::text in ('alerts', 'alert_groups', 'notifications')
        order by 1, 2, 3""")
    assert [tuple(r) for r in rows] == [
        ("alert_groups", "alert_escalations", "group_id"),    # deleted with its lead alert,
                                                              # a member: before the group
        ("alert_groups", "alerts", "group_id"),               # groups go only when empty
        ("alert_groups", "notifications", "group_id"),        # ... and unreferenced
        ("alerts", "alert_escalations", "alert_id"),          # deleted with the alert
        ("alerts", "alert_events", "alert_id"),               # deleted with the alert
        ("alerts", "alerts", "inhibited_by"),                 # pins its source (NEEDED_BY)
        ("alerts", "heartbeats", "alert_id"),                 # pins the alert (PINNED)
        ("alerts", "notifications", "alert_id"),              # deleted with the alert
        ("notifications", "notification_attempts", "notification_id"),  # deleted with it
        ("notifications", "notifications", "bundled_into"),   # pins its leader (NEEDED_BY)
    ]


def test_migration_0013_goes_down_and_up_again(engine: sa.Engine,
                                               history: dict[str, int]) -> None:
    from alembic import command

    from core.migrations.apply import alembic_config, upgrade

    cleanup(engine, AGE, NOW, MANAGER)                      # leaves a 'retention' audit row
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
        conn.commit()
    entity_check = ("select pg_get_constraintdef(oid) from pg_constraint "
                    "where conname = 'audit_log_entity_check'")
    [(down,)] = q(engine, entity_check)
    assert "retention" not in down and "sla_policy" in down and "NOT VALID" in down
    with core_db.transaction(engine) as s:                  # no sanctioned path any more
        s.execute(sa.text("set local alertdesk.retention = 'on'"))
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with s.begin_nested():
                s.execute(sa.text("delete from alert_events where alert_id = :i"),
                          {"i": history["old_open"]})
    upgrade(engine)
    [(up,)] = q(engine, entity_check)
    assert "'retention'::text" in up and "'sla_policy'::text" in up
    assert cleanup(engine, parse_age("1d"), NOW, MANAGER)["deleted"]["alerts"] == 4
