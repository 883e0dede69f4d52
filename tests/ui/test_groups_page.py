"""The Groups page and the alert's "why" in AppTest, on alerts that came in as a group."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from core import db as core_db
from core.actor import Actor
from core.alerts.model import AlertIn
from core.ingest.batch import ingest_batch
from core.ingest.signal import Signal
from tests.factories import make_users
from tests.ui.conftest import app_as

SRC = Actor("key:am", "operator", "alertmanager", is_human=False)


def burst(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    make_users(engine)
    signals = [Signal(AlertIn(summary=f"latency on web-{i}", severity=sev, service="checkout",
                              device_id=f"web-{i}", labels={"alertname": "HighLatency"},
                              fingerprint=f"lat-{i}"))
               for i, sev in enumerate(("high", "medium", "medium"))]
    resolved = Signal(AlertIn(summary="latency on web-1", severity="medium",
                              fingerprint="lat-1", service="checkout"), "resolved")
    with core_db.transaction(engine) as s:
        ids = ingest_batch(s, signals, SRC, datetime.now(timezone.utc)).ids
        ingest_batch(s, [resolved], SRC, datetime.now(timezone.utc))
    return ids


def open_page(at, page: str, **query: str):  # type: ignore[no-untyped-def]
    at.run()
    at.switch_page(page)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def test_groups_page_tiles_table_and_members(engine) -> None:
    burst(engine)
    at = open_page(app_as("victor", "viewer"), "../pages/groups.py")
    assert not at.exception, at.exception
    tiles = {m.label: m.value for m in at.metric}
    assert (tiles["Raw events"], tiles["Alerts"], tiles["Groups"]) == ("3", "3", "1")
    table = at.dataframe[0].value
    assert table["Why"].tolist() == ["1 of 3 resolved"]
    assert table["Grouped by"].iloc[0] == "service=checkout, alertname=HighLatency"
    at.session_state[at.session_state["groups_table_key"]] = {
        "selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    members = at.dataframe[1].value
    assert sorted(members["Device"]) == ["web-0", "web-1", "web-2"]
    assert members.loc[members["Device"] == "web-1", "State"].item() == "resolved"


def test_alert_detail_says_why(engine) -> None:
    ids = burst(engine)
    at = open_page(app_as("olga"), "../pages/alert.py", id=str(ids["lat-0"]))
    assert not at.exception, at.exception
    why = next(t.value for t in at.text if t.value.startswith("Deduplicated by"))
    assert "fingerprint lat-0" in why
    assert "grouped by service=checkout, alertname=HighLatency; 1 of 3 resolved" in why


def test_group_link_from_an_alert_opens_its_members(engine) -> None:
    ids = burst(engine)
    with engine.connect() as c:
        gid = c.scalar(sa.text("select group_id from alerts where id = :i"), {"i": ids["lat-0"]})
    at = open_page(app_as("victor", "viewer"), "../pages/groups.py", id=str(gid))
    assert at.subheader[0].value == f"Group #{gid}"
    at = open_page(app_as("victor", "viewer"), "../pages/groups.py", id="999")
    assert "group 999 does not exist" in at.error[0].value


def test_queue_group_view_expands_a_group_and_acts_on_its_alerts(engine) -> None:
    from tests.factories import event_rows, row
    from tests.ui.conftest import select_rows

    ids = burst(engine)
    at = app_as("olga", view="groups").run()
    assert not at.exception, at.exception
    groups = at.dataframe[0].value
    assert groups["Why"].tolist() == ["1 of 3 resolved"]
    at.session_state[at.session_state["queue_groups_key"]] = {
        "selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    members = at.dataframe[1].value
    assert sorted(members["Device"]) == ["web-0", "web-2"]  # the open ones
    at = select_rows(at, [0, 1])
    at.button(key="act_acknowledge").click().run()
    assert row(engine, ids["lat-0"]).state == "acknowledged"
    assert row(engine, ids["lat-2"]).state == "acknowledged"
    assert event_rows(engine, ids["lat-2"])[-1].actor == "olga"
    at.segmented_control(key="queue_view").set_value("Alerts").run()
    assert "view" not in at.query_params



def test_operator_acknowledges_the_incident_from_the_group_view(engine) -> None:
    ids = burst(engine)
    with engine.connect() as c:
        gid = c.scalar(sa.text("select group_id from alerts where id = :i"), {"i": ids["lat-0"]})
    viewer = open_page(app_as("victor", "viewer"), "../pages/groups.py", id=str(gid))
    assert not [b for b in viewer.button if b.label.startswith("Acknowledge incident")]
    at = open_page(app_as("olga"), "../pages/groups.py", id=str(gid))
    assert "Paging: not started" in " ".join(c.value for c in at.caption)
    ack = next(b for b in at.button if b.label == "Acknowledge incident (2)")
    at = ack.click().run()
    assert not at.exception, at.exception
    assert f"Incident #{gid}: 2 alert(s) acknowledged" in at.success[0].value.replace("\\", "")
    with engine.connect() as c:
        got = c.execute(sa.text("select state, count(*) from alerts where group_id = :g "
                                "group by 1 order by 1"), {"g": gid}).all()
    assert [tuple(r) for r in got] == [("acknowledged", 2), ("resolved", 1)]
    assert next(b for b in at.button if b.label.startswith("Acknowledge incident")).disabled


def test_operator_escalates_now_and_pages_a_responder(engine) -> None:
    from core import worker

    ids = burst(engine)
    worker.tick(engine, datetime.now(timezone.utc) + timedelta(seconds=20))  # wait is over
    with engine.connect() as c:
        gid = c.scalar(sa.text("select group_id from alerts where id = :i"), {"i": ids["lat-0"]})
    at = open_page(app_as("olga"), "../pages/groups.py", id=str(gid))
    assert "Paging: policy 'high'" in " ".join(c.value for c in at.caption)
    at = next(b for b in at.button if b.label == "Escalate now").click().run()
    assert not at.exception, at.exception
    with engine.connect() as c:
        assert c.scalar(sa.text("select expedited from alert_escalations where group_id = :g"),
                        {"g": gid}) == "manual"
    at.selectbox(key=f"group_responder_{gid}").set_value("maria").run()
    at = next(b for b in at.button if b.label == "Page them").click().run()
    assert "maria paged" in at.success[0].value
    with engine.connect() as c:
        got = c.execute(sa.text("select channel, recipient from notifications "
                                "where payload ->> 'kind' = 'responder'")).all()
    assert [tuple(r) for r in got] == [("console", "console")]   # maria has no contacts


def test_the_why_counts_duplicates_not_signals(engine) -> None:
    ids = burst(engine)
    with core_db.transaction(engine) as s:  # lat-2 fires twice more: 3 signals, 2 duplicates
        again = Signal(AlertIn(summary="latency on web-2", severity="medium", service="checkout",
                               device_id="web-2", labels={"alertname": "HighLatency"},
                               fingerprint="lat-2"))
        ingest_batch(s, [again, again], SRC, datetime.now(timezone.utc))
    for fp, expected in (("lat-0", None), ("lat-2", "(2 duplicates folded in)")):
        at = open_page(app_as("olga"), "../pages/alert.py", id=str(ids[fp]))
        why = next(t.value for t in at.text if t.value.startswith("Deduplicated by"))
        first = why.splitlines()[0]
        assert "folded in" not in first if expected is None else first.endswith(expected), why
        assert "signal" not in first


def test_the_log_axis_ticks_are_plain_numbers(engine) -> None:
    burst(engine)
    at = open_page(app_as("victor", "viewer"), "../pages/groups.py")
    [chart] = [c for c in at.get("plotly_chart")]
    yaxis = json.loads(chart.proto.spec)["layout"]["yaxis"]
    assert (yaxis["type"], yaxis["dtick"], yaxis["tickformat"]) == ("log", 1, ",d")
