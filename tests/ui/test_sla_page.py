"""The SLA compliance page in AppTest: its tables carry core.sla.compliance's numbers for the
same history, managers edit targets through the form, viewers see no editor."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from core import db as core_db
from core import teams
from core.sla.compliance import ComplianceQuery, compliance
from dashboard.ui import duration
from tests.factories import act, make_alert, make_users
from tests.ui.conftest import app_as


def history(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Outcomes all decided (clocks stopped or long past due), so the numbers do not move
    between the test's query and the page's."""
    make_users(engine)
    now = datetime.now(timezone.utc)
    t1, t2 = now - timedelta(days=2), now - timedelta(hours=5)
    ok = make_alert(engine, t1, summary="fast", service="billing")
    act(engine, ok, "acknowledge", t1 + timedelta(seconds=60))
    act(engine, ok, "resolve", t1 + timedelta(seconds=600))
    slow = make_alert(engine, t2, summary="slow", service="web")
    act(engine, slow, "acknowledge", t2 + timedelta(seconds=900))    # TTA 900 > 300
    act(engine, slow, "resolve", t2 + timedelta(seconds=1200))       # TTR met
    stuck = make_alert(engine, t2, summary="stuck", severity="high", service="web")  # open
    make_alert(engine, now - timedelta(days=20), summary="old")  # outside the last 7 days
    return {"ok": ok, "slow": slow, "stuck": stuck}


# The page's tables in order (AppTest exposes a dataframe's key only with on_select).
TABLES = ["sla_by_severity", "sla_by_service", "sla_by_both", "sla_by_team", "sla_days_table",
          "sla_breaches", "sla_policies", "teams_table"]


def frame(at, key: str):  # type: ignore[no-untyped-def]
    return at.dataframe[TABLES.index(key)].value


def open_page(username: str, role: str):  # type: ignore[no-untyped-def]
    at = app_as(username, role).run()
    at.switch_page("../pages/sla.py").run()
    assert not at.exception, at.exception
    return at


def expected(engine, group_by: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    now = datetime.now(timezone.utc)
    start = datetime.combine((now - timedelta(days=6)).date(), datetime.min.time(), timezone.utc)
    with core_db.transaction(engine) as s:
        return compliance(s, ComplianceQuery(start, now, group_by), now)


def test_tables_match_core_compliance(engine) -> None:
    ids = history(engine)
    at = open_page("victor", "viewer")
    assert at.title[0].value == "SLA compliance"
    tiles = {m.label: m.value for m in at.metric}
    assert (tiles["Alerts"], tiles["Breaches"]) == ("3", "2")
    for group_by, dims in (("severity", ["severity"]), ("service", ["service"]),
                           ("both", ["severity", "service"])):
        shown = frame(at, f"sla_by_{group_by}")
        rows = expected(engine, group_by)
        for dim in dims:
            assert shown[dim.capitalize()].tolist() == [r[dim] for r in rows]
        assert shown["Alerts"].tolist() == [r["alerts"] for r in rows]
        assert shown["Breaches"].tolist() == [r["breaches"] for r in rows]
        assert shown["TTA met %"].tolist() == [r["tta_compliance_pct"] for r in rows]
        assert shown["TTR met %"].tolist() == [r["ttr_compliance_pct"] for r in rows]
        assert shown["Median TTA"].tolist() == [
            "" if r["p50_tta_s"] is None else duration(r["p50_tta_s"]) for r in rows]
    by_sev = frame(at, "sla_by_severity")
    assert by_sev["TTA met %"].tolist() == [50.0, 0.0]          # critical 1 of 2; high 0 of 1
    assert by_sev["Mean TTA"].tolist() == ["8m 0s", ""]          # (60 + 900) / 2
    breached = frame(at, "sla_breaches")
    assert breached["ID"].tolist() == [ids["slow"], ids["stuck"]]
    assert breached["Breached"].tolist() == ["TTA", "TTA+TTR"]
    links = at.get("page_link")
    assert len(links) == 2
    days = frame(at, "sla_days_table")
    assert len(days) == 7 and days["Alerts"].sum() == 3


def test_custom_range_of_an_empty_day(engine) -> None:
    history(engine)
    at = open_page("victor", "viewer")
    at.selectbox(key="sla_period").set_value("Custom range").run()
    day = (datetime.now(timezone.utc) - timedelta(days=10)).date()
    at.date_input(key="sla_days").set_value((day, day)).run()
    assert not at.exception, at.exception
    assert frame(at, "sla_by_severity").empty
    days = frame(at, "sla_days_table")
    assert days["Day"].tolist() == [day.isoformat()] and days["Alerts"].tolist() == [0]
    assert frame(at, "sla_breaches").empty


def test_manager_changes_critical_tta_viewer_sees_no_editor(engine) -> None:
    make_users(engine)
    viewer = open_page("victor", "viewer")
    assert not [b for b in viewer.button if b.label == "Save targets"]
    assert not viewer.number_input and len(frame(viewer, "sla_policies")) == 5
    at = open_page("maria", "manager")
    at.selectbox(key="sla_f_severity").set_value("critical")
    at.number_input(key="sla_f_tta").set_value(10)
    at.number_input(key="sla_f_ttr").set_value(45)
    next(b for b in at.button if b.label == "Save targets").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success[0].value == "Targets for critical saved"
    with engine.connect() as c:
        row = c.execute(sa.text("select tta_s, ttr_s, updated_by from sla_policies "
                                "where severity = 'critical' and service is null")).one()
    assert tuple(row) == (600, 2700, "maria")
    policies = frame(at, "sla_policies")
    assert policies.iloc[0][["TTA (min)", "TTR (min)", "By"]].tolist() == [10, 45, "maria"]


def test_manager_assigns_owners_and_the_team_breakdown_follows(engine) -> None:
    history(engine)
    at = open_page("maria", "manager")
    assert frame(at, "sla_by_team")["Team"].tolist() == ["(no team)"]
    at.session_state["teams_editor"] = {"edited_rows": {1: {"Team": "frontend"}},
                                        "added_rows": [], "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.label == "Save owners").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with core_db.transaction(engine) as s:
        assert teams.load(s) == {"web": "frontend"}
    by_team = frame(at, "sla_by_team")
    assert by_team["Team"].tolist() == ["(no team)", "frontend"]
    assert by_team["Alerts"].tolist() == [1, 2]        # billing's one; web's two
    viewer = open_page("victor", "viewer")
    assert not [b for b in viewer.button if b.label == "Save owners"]
    assert frame(viewer, "teams_table")["Team"].tolist() == ["", "frontend"]
