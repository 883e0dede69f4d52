"""Grouping on a real PostgreSQL: session windows, counts kept by the triggers, status from
members, N of M resolved, stats."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.actor import Actor
from core.alerts.model import AlertIn
from core.errors import FieldError
from core.grouping.read import GroupFilter, get_group, group_stats, list_groups
from core.grouping.rules import parse_config
from core.ingest.batch import ingest_batch
from core.ingest.signal import Signal
from tests.conftest import T0
from tests.factories import act, make_users

SRC = Actor("key:am", "operator", "alertmanager", is_human=False)


def fire(engine: sa.Engine, now, *alerts: dict, status: str = "firing"):  # type: ignore[no-untyped-def]
    signals = [Signal(AlertIn(**{"severity": "medium", "source": "prom", **a}), status)
               for a in alerts]
    with core_db.transaction(engine) as s:
        return ingest_batch(s, signals, SRC, now)


def latency(host: str, **kw) -> dict:  # type: ignore[type-arg]
    return {"summary": f"latency on {host}", "service": "checkout", "device_id": host,
            "labels": {"alertname": "HighLatency"}, "fingerprint": f"lat-{host}", **kw}


def groups(engine: sa.Engine, **f) -> list[dict]:  # type: ignore[type-arg]
    with core_db.transaction(engine) as s:
        return list_groups(s, GroupFilter(**f))[0]


def test_burst_becomes_one_group_with_counts_and_highest_severity(engine: sa.Engine) -> None:
    fire(engine, T0, latency("web-1"), latency("web-2"))
    fire(engine, T0 + timedelta(seconds=10), latency("web-3", severity="critical"),
         latency("web-1"))  # web-1 again: a duplicate, not a member
    fire(engine, T0 + timedelta(minutes=3), {"summary": "disk", "service": "checkout",
                                             "labels": {"alertname": "DiskFull"}})
    [disk, lat] = sorted(groups(engine), key=lambda g: g["member_count"])
    assert lat["group_by"] == {"service": "checkout", "alertname": "HighLatency"}
    assert (lat["member_count"], lat["open_count"], lat["raw_events"]) == (3, 3, 4)
    assert lat["max_severity"] == "critical" and lat["status"] == "active"
    assert lat["first_seen_at"] == T0 and lat["last_seen_at"] == T0 + timedelta(seconds=10)
    # medium waits 30 s; a critical joining at 10 s ends the wait at once
    assert lat["notify_at"] == T0 + timedelta(seconds=10)
    assert disk["member_count"] == 1 and disk["notify_at"] == T0 + timedelta(minutes=3, seconds=30)


def test_a_quiet_gap_longer_than_the_window_starts_a_new_group(engine: sa.Engine) -> None:
    fire(engine, T0, latency("web-1"))
    fire(engine, T0 + timedelta(minutes=4), latency("web-2"))
    fire(engine, T0 + timedelta(minutes=10), latency("web-3"))
    counts = sorted(g["member_count"] for g in groups(engine))
    assert counts == [1, 2]


def test_one_resolved_member_never_resolves_the_group(engine: sa.Engine) -> None:
    make_users(engine)
    result = fire(engine, T0, latency("web-1"), latency("web-2"))
    fire(engine, T0 + timedelta(minutes=1), latency("web-1"), status="resolved")
    [g] = groups(engine)
    assert (g["status"], g["why"]) == ("active", "1 of 2 resolved")
    act(engine, result.ids["lat-web-2"], "resolve", T0 + timedelta(minutes=2))
    [g] = groups(engine)
    assert (g["status"], g["why"], g["resolved_at"]) == (
        "resolved", "2 of 2 resolved", T0 + timedelta(minutes=2))
    act(engine, result.ids["lat-web-2"], "reopen", T0 + timedelta(minutes=3))
    assert groups(engine)[0]["status"] == "active"
    assert groups(engine, status="resolved") == []


def test_filters_detail_and_stats(engine: sa.Engine) -> None:
    fire(engine, T0, latency("web-1"), latency("web-2"), latency("web-1"))
    fire(engine, T0, {"summary": "BGP down", "service": "edge", "device_id": "rtr-1",
                      "labels": {"alertname": "BGPDown"}})
    assert [g["group_by"]["service"] for g in groups(engine, service="edge")] == ["edge"]
    assert len(groups(engine, device_id="web-2")) == 1
    with core_db.transaction(engine) as s:
        lat = groups(engine, service="checkout")[0]
        detail = get_group(s, lat["id"])
        stats = group_stats(s, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert sorted(m["device_id"] for m in detail["members"]) == ["web-1", "web-2"]
    assert stats["raw_events"] == 4 and stats["alerts"] == 3 and stats["groups"] == 2
    assert stats["dedup_reduction_pct"] == 25.0
    assert stats["notifications"] == 0 and stats["noise_reduction_pct"] == 100.0  # none sent


def test_grouping_config_is_validated() -> None:
    assert parse_config({"group_by": ["service"], "window_s": 60}).window_s == 60
    for bad, field in (({"group_by": []}, "group_by"), ({"window_s": 0}, "window_s"),
                       ({"wait_s": {"urgent": 5}}, "wait_s.urgent"),
                       ({"wait_s": {"high": -1}}, "wait_s.high")):
        with pytest.raises(FieldError) as err:
            parse_config(bad)
        assert err.value.field == field


def test_backfill_groups_history_like_live_ingest_would(engine: sa.Engine) -> None:
    from core.grouping.store import backfill

    make_users(engine)
    from tests.factories import make_alert
    ids = [make_alert(engine, T0 + timedelta(minutes=m), summary=f"lat {m}", service="checkout",
                      device_id=f"web-{m}", labels={"alertname": "HighLatency"}, severity=sev)
           for m, sev in ((0, "low"), (3, "high"), (30, "medium"))]
    act(engine, ids[2], "resolve", T0 + timedelta(minutes=40))
    with core_db.transaction(engine) as s:  # history without groups, as the demo loads it
        s.execute(sa.text("update alerts set group_id = null"))
        s.execute(sa.text("delete from alert_groups"))
        assert backfill(s) == 3
    found = sorted(groups(engine), key=lambda g: g["first_seen_at"])
    assert [(g["member_count"], g["max_severity"], g["status"]) for g in found] == [
        (2, "high", "active"), (1, "medium", "resolved")]
    # a live alert a minute later joins the backfilled session: same key in SQL and Python
    fire(engine, T0 + timedelta(minutes=31), latency("web-9"))
    with engine.connect() as c:
        gid = c.scalar(sa.text("select group_id from alerts where device_id = 'web-9'"))
    assert gid == found[1]["id"]
