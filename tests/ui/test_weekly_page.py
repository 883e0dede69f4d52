"""The Weekly report page in AppTest: it opens on the last complete week in the viewer's
zone, shows the report's numbers, offers the three downloads, and filters by team."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core.weekly.report import last_complete_week, week_label
from tests.factories import act, make_alert, make_users
from tests.ui.conftest import app_as


def history(engine) -> None:  # type: ignore[no-untyped-def]
    """Three alerts in the middle (Wednesday noon UTC) of the last complete UTC week."""
    make_users(engine)
    monday = last_complete_week(datetime.now(timezone.utc), "UTC")
    t = datetime.combine(monday + timedelta(days=2), datetime.min.time(), timezone.utc)
    t += timedelta(hours=12)
    a = make_alert(engine, t, summary="disk full", labels={"team": "storage"})
    act(engine, a, "acknowledge", t + timedelta(seconds=120))
    make_alert(engine, t + timedelta(hours=1), summary="<b>cpu</b> | hot", severity="high")
    make_alert(engine, t + timedelta(hours=2), summary="cpu again", severity="low")


def open_page():  # type: ignore[no-untyped-def]
    at = app_as("victor", "viewer").run()
    at.switch_page("../pages/weekly.py").run()
    assert not at.exception, at.exception
    return at


def test_renders_last_complete_week_with_tiles_tables_and_downloads(engine) -> None:
    history(engine)
    at = open_page()
    assert at.title[0].value == "Weekly report"
    monday = last_complete_week(datetime.now(timezone.utc), "UTC")
    assert at.selectbox(key="weekly_week").value == monday
    assert at.query_params["week"] == week_label(monday)  # a link to share
    tiles = {m.label: m.value for m in at.metric}
    assert (tiles["Alerts"], tiles["MTTA"], tiles["Busiest"]) == ("3", "2m 0s", "olga")
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download HTML (for e-mail)", "Download Markdown", "Download CSV (tables)"]
    headers = [h.value for h in at.subheader]
    assert headers[:3] == ["Summary", "Alerts by severity", "Alerts per day"]
    per_day = at.dataframe[2].value
    assert per_day["Alerts"].tolist() == ["0", "0", "3", "0", "0", "0", "0"]
    top = at.dataframe[4].value
    assert "<b>cpu</b> | hot" in top["Summary"].tolist()  # shown as data, not markup
    assert len(at.get("plotly_chart")) >= 1


def test_team_filter_and_an_older_empty_week(engine) -> None:
    history(engine)
    at = open_page()
    at.text_input(key="weekly_team").input("storage").run()
    assert {m.label: m.value for m in at.metric}["Alerts"] == "1"
    older = at.selectbox(key="weekly_week").options[5]
    at.selectbox(key="weekly_week").select_index(5).run()
    assert not at.exception
    tiles = {m.label: m.value for m in at.metric}
    assert (tiles["Alerts"], tiles["TTA met"], tiles["Busiest"]) == ("0", "–", "–")
    assert older.startswith(at.query_params["week"])


def test_week_from_the_link(engine) -> None:
    history(engine)
    monday = last_complete_week(datetime.now(timezone.utc), "UTC")
    for asked, expected in ((week_label(monday - timedelta(days=21)), monday - timedelta(days=21)),
                            ("2020-W01", monday), ("garbage", monday)):  # out of range: default
        at = app_as("victor", "viewer").run()
        at.switch_page("../pages/weekly.py")
        at.query_params["week"] = asked
        at.run()
        assert not at.exception
        assert at.selectbox(key="weekly_week").value == expected, asked
