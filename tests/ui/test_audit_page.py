"""The Audit page in AppTest: managers and admins see config changes and alert actions in
one list with readable before → after and a CSV of what is shown; filters narrow it;
operators and viewers are told the page is for managers and admins."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core import db as core_db
from core.audit import record
from core.sla.store import upsert_policy
from tests.factories import ADMIN, MANAGER, act, make_alert, make_users
from tests.ui.conftest import app_as


def history(engine) -> int:  # type: ignore[no-untyped-def]
    make_users(engine)  # 4 "user create" rows, now
    now = datetime.now(timezone.utc)
    body = {"severity": "low", "service": "billing", "tta_s": 300, "ttr_s": 3600}
    with core_db.transaction(engine) as s:
        upsert_policy(s, body, MANAGER, now - timedelta(hours=2))
        upsert_policy(s, {**body, "tta_s": 600}, MANAGER, now - timedelta(hours=1))
        record(s, ADMIN, "setting", "ancient", "update", {"v": 1}, {"v": 2},
               now - timedelta(days=8))  # outside "Last 7 days"
    alert = make_alert(engine, now - timedelta(minutes=30))
    act(engine, alert, "acknowledge", now - timedelta(minutes=20), note="checking billing",
        metadata={"ticket": "INC-7"})
    return alert


def open_page(username: str, role: str):  # type: ignore[no-untyped-def]
    at = app_as(username, role).run()
    at.switch_page("../pages/audit.py").run()
    assert not at.exception, at.exception
    return at


def test_managers_see_one_list_newest_first(engine) -> None:
    alert = history(engine)
    at = open_page("maria", "manager")
    assert at.title[0].value == "Audit"
    shown = at.dataframe[0].value
    assert list(shown.columns) == ["Time", "Actor", "Role", "Source", "Entity", "ID", "Action",
                                   "Changes", "Note", "Metadata"]
    assert shown["Entity"].head(4).tolist() == ["user"] * 4  # made at the start, just now
    top = shown.iloc[4:].reset_index(drop=True)
    assert top[["Entity", "ID", "Action"]].values.tolist() == [
        ["alert", str(alert), "assign"], ["alert", str(alert), "acknowledge"],
        ["sla_policy", "low/billing", "update"], ["sla_policy", "low/billing", "create"]]
    assert top["Changes"].tolist()[:3] == ["assignee: null → olga",
                                          "state: new → acknowledged", "tta_s: 300 → 600"]
    assert top["Note"].tolist()[1] == "checking billing"
    assert top["Metadata"].tolist()[:2] == ["", '{"ticket": "INC-7"}']
    assert top["Role"].tolist()[:2] == ["operator", "operator"]
    assert len(shown) == 8 and "ancient" not in shown["ID"].tolist()  # 4 users + 4 above
    assert "8 entries" in at.caption[0].value
    assert at.download_button(key="audit_csv").label == "Download CSV"


def test_filters_narrow_the_list(engine) -> None:
    history(engine)
    at = open_page("ada", "admin")
    at.selectbox(key="audit_what").set_value("Alert actions").run()
    assert at.dataframe[0].value["Action"].tolist() == ["assign", "acknowledge"]
    at.selectbox(key="audit_what").set_value("Everything").run()
    at.text_input(key="audit_q").set_value("billing").run()
    assert at.dataframe[0].value["Action"].tolist() == ["acknowledge", "update", "create"]
    at.text_input(key="audit_q").set_value("").run()
    at.text_input(key="audit_actor").set_value("maria").run()
    assert at.dataframe[0].value["Action"].tolist() == ["update", "create"]
    at.text_input(key="audit_actor").set_value("").run()
    at.selectbox(key="audit_period").set_value("All time").run()
    assert at.dataframe[0].value["ID"].tolist()[-1] == "ancient"
    assert not at.exception


def test_operators_and_viewers_see_why_it_is_empty(engine) -> None:
    history(engine)
    for user, role in (("olga", "operator"), ("victor", "viewer")):
        at = open_page(user, role)
        assert "managers and admins only" in at.warning[0].value
        assert not at.dataframe and not at.get("download_button")
