"""The Health scores page in AppTest: the table carries core's scores worst first with a
sparkline per row, the drill-down shows the factors and the alerts behind the score with
links, the toggle switches to devices, and the CSV is the frame shown."""
from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timedelta, timezone

from dashboard.health_widgets import TREND, csv_bytes, scores_display
from tests.factories import act, make_alert, make_users
from tests.ui.conftest import app_as


def history(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """billing: a breached critical (resolved) + an open high inside its TTA; web: a calm
    info. Outcomes are decided, so nothing moves between runs."""
    make_users(engine)
    now = datetime.now(timezone.utc)
    t = now - timedelta(hours=30)
    late = make_alert(engine, t, summary="late ack", service="billing", device_id="db-01")
    act(engine, late, "acknowledge", t + timedelta(minutes=10))
    act(engine, late, "resolve", t + timedelta(minutes=15))
    fresh = make_alert(engine, now - timedelta(minutes=1), summary="fresh", severity="high",
                       service="billing", device_id="db-02")
    calm = make_alert(engine, t, summary="calm", severity="info", service="web",
                      device_id="web-01")
    act(engine, calm, "resolve", t + timedelta(minutes=1))
    return {"late": late, "fresh": fresh, "calm": calm}


def open_page():  # type: ignore[no-untyped-def]
    at = app_as("victor", "viewer").run()
    at.switch_page("../pages/health.py").run()
    assert not at.exception, at.exception
    return at


def test_table_scores_worst_first_with_sparklines(engine) -> None:
    history(engine)
    at = open_page()
    assert at.title[0].value == "Health scores"
    table = at.dataframe[0].value
    assert table["Service"].tolist() == ["billing", "web"]
    # billing: 1 of 2 breached -> 25; open high -> 40 * 10 / 60 = 6.67 -> 68.3 Fair
    assert table["Score"].tolist() == [68.3, 100.0]
    assert table["Band"].tolist() == ["Fair", "Excellent"]
    assert table["Breached %"].tolist()[0] == 50.0
    sparks = [list(s) for s in table[TREND]]
    assert [len(s) for s in sparks] == [14, 14] and sparks[1] == [100.0] * 14
    assert at.download_button(key="health_csv").label == "Download CSV"


def test_drill_down_factors_and_alerts_behind(engine) -> None:
    ids = history(engine)
    at = open_page()
    assert at.selectbox(key="health_pick_service").value == "billing"
    tiles = {m.label: m.value for m in at.metric}
    assert tiles == {"Score": "68.3", "Open alerts": "−6.7", "SLA breaches": "−25.0",
                     "MTTR vs target": "0", "Recurrence": "0"}   # not "−0.0"
    behind = at.dataframe[2].value
    assert behind["ID"].tolist() == [ids["late"], ids["fresh"]]
    assert behind["Why"].tolist() == ["SLA breached", "open"]
    links = at.get("page_link")
    assert len(links) == 2
    at.selectbox(key="health_pick_service").set_value("web").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Score"] == "100.0"
    assert at.dataframe[2].value.empty


def test_toggle_to_devices(engine) -> None:
    history(engine)
    at = open_page()
    at.segmented_control(key="health_by").set_value("Devices").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    # db-01: one breached alert -> 75.0 Good; db-02: one open high -> 93.3; web-01: 100
    assert table["Device"].tolist() == ["db-01", "db-02", "web-01"]
    assert table["Score"].tolist() == [75.0, 93.3, 100.0]
    assert at.selectbox(key="health_pick_device").value == "db-01"


def test_empty_database_says_everything_is_quiet(engine) -> None:
    make_users(engine)
    at = open_page()
    assert "everything scores 100" in at.info[0].value


def test_csv_is_the_frame_shown() -> None:
    rows = [{"entity": "billing", "score": 68.3, "band": "Fair", "open": 1, "alerts": 2,
             "breach_share": 0.5, "mttr_ratio": 0.5, "recurrence_share": 0.0,
             "penalties": {"open": 6.67, "breaches": 25.0, "mttr": 0.0, "recurrence": 0.0}}]
    df = scores_display(rows, {"billing": [100.0, 68.3]}, "Service")
    got = list(csv.DictReader(io.StringIO(csv_bytes(df).decode())))
    assert list(got[0]) == list(df.columns)
    assert got[0]["Service"] == "billing" and got[0][TREND] == "100 68.3"
    assert (got[0]["Score"], got[0]["Band"], got[0]["Breached %"]) == ("68.3", "Fair", "50.0")


def test_nothing_to_measure_reads_as_a_dash_not_none(engine) -> None:
    make_users(engine)
    now = datetime.now(timezone.utc)
    # open since before the window: no alert in the window, nothing resolved
    make_alert(engine, now - timedelta(days=40), summary="old", severity="low", service="quiet")
    at = open_page()
    table = at.dataframe[0].value
    assert table["Service"].tolist() == ["quiet"]
    assert table["Breached %"].isna().all() and table["MTTR / target"].isna().all()
    assert at.dataframe[0].proto.placeholder == "—"  # what the empty cells show, not "None"
    penalties = table[[c for c in table.columns if c.startswith("− ")]]
    assert all(math.copysign(1.0, v) == 1.0 for v in penalties.iloc[0])  # never "−0.0"
