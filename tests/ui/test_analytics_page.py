"""The Analytics page in AppTest: the period's counts and response times, the trend by
severity, a click on a bar listing the alerts behind it, and the recurring alerts."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import sqlalchemy as sa

from pages.analytics import picked
from tests.factories import act, make_alert, make_users
from tests.ui.conftest import app_as


def page():  # type: ignore[no-untyped-def]
    at = app_as("victor", "viewer")
    at.switch_page("../pages/analytics.py")
    return at.run()


def test_counts_trend_and_top_alerts(engine: sa.Engine) -> None:
    make_users(engine)
    now = datetime.now(timezone.utc)
    first = make_alert(engine, now - timedelta(hours=3), summary="disk full", severity="high",
                       device_id="db-1")
    make_alert(engine, now - timedelta(hours=2, minutes=59), summary="disk full",
               severity="high", device_id="db-1")                    # a duplicate
    make_alert(engine, now - timedelta(hours=1), summary="link down", severity="critical",
               device_id="sw-1")
    act(engine, first, "acknowledge", now - timedelta(hours=2, minutes=50))
    at = page()
    assert not at.exception and at.title[0].value == "Analytics"
    tiles = {m.label: m.value for m in at.metric}
    assert (tiles["Alerts"], tiles["Signals"], tiles["Still open"]) == ("2", "3", "2")
    assert tiles["MTTA"] == "10m"
    top = at.dataframe[0].value
    assert top["Summary"].tolist()[0] == "disk full" and top["Signals"].tolist()[0] == 2
    assert top["Latest"].tolist()[0] == f"/alert?id={first}"


def test_a_clicked_bar_lists_its_alerts(engine: sa.Engine) -> None:
    make_users(engine)
    now = datetime.now(timezone.utc)
    wanted = make_alert(engine, now - timedelta(minutes=30), summary="bgp down",
                        severity="critical")
    make_alert(engine, now - timedelta(minutes=20), summary="disk", severity="low",
               device_id="x")
    at = page()
    start = (now - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    event = SimpleNamespace(selection=SimpleNamespace(points=[{"customdata": [
        start.isoformat(), (start + timedelta(hours=2)).isoformat(), "critical"]}]))
    at.session_state["an_pick"] = picked(event)   # what a click on the bar records
    at.run()
    assert not at.exception
    behind = at.dataframe[0].value
    assert behind["Alert"].tolist() == [f"/alert?id={wanted}"]
    assert "1 critical alert on " in at.subheader[1].value
