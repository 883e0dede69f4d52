"""The Escalation page in AppTest on the real DB: a manager creates, toggles and edits
policies through the editor (bad lines refused, nothing stored); viewers only read; an
alert's timeline after a worker tick; the delivery log with failed rows and filters; a
test notification. Slack/PagerDuty secrets are unset, so those sends fail at once."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from core import worker
from dashboard import escalation_widgets as w
from tests.factories import make_alert, make_users
from tests.ui.conftest import app_as

PAGE = "../pages/escalation.py"


@pytest.fixture(autouse=True)
def _no_channel_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ALERTDESK_SLACK_WEBHOOK_NOC", "ALERTDESK_PAGERDUTY_ROUTING_KEY_NOC"):
        monkeypatch.delenv(name, raising=False)


def open_page(username: str, role: str, **query: str):  # type: ignore[no-untyped-def]
    at = app_as(username, role).run()
    at.switch_page(PAGE)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def click(at, label: str):  # type: ignore[no-untyped-def]
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, at.exception
    return at


def frame(at, column: str):  # type: ignore[no-untyped-def]
    """The table having ``column`` (read-only tables have no key in AppTest)."""
    [df] = [d.value for d in at.dataframe if column in d.value.columns]
    return df


def policies(engine: sa.Engine) -> list[Any]:
    with engine.connect() as c:
        return list(c.execute(sa.text("select * from escalation_policies order by id")))


def fired_alert(engine: sa.Engine) -> int:
    """A critical alert whose tier 1 (seeded policy: console + slack:noc) fired."""
    make_users(engine)
    now = datetime.now(timezone.utc)
    alert = make_alert(engine, now, summary="db down")
    worker.tick(engine, now + timedelta(seconds=1))
    return alert


def test_tier_lines_parse_into_target_shapes() -> None:
    tiers, lines = w.parse_tiers("0: console, slack:noc\n\n5: user:olga, pagerduty:noc, "
                                 "webhook:crm\n7.5: email:ops@example.com, sms:+15551234567, "
                                 "webhook:https://hooks.example.com/x")
    assert lines == [1, 3, 4]
    assert tiers == [
        {"delay_s": 0, "targets": [{"type": "console"}, {"type": "slack", "webhook": "noc"}]},
        {"delay_s": 300, "targets": [{"type": "user", "username": "olga"},
                                     {"type": "pagerduty", "routing_key_ref": "noc"},
                                     {"type": "webhook", "url_ref": "crm"}]},
        {"delay_s": 450, "targets": [{"type": "email", "to": "ops@example.com"},
                                     {"type": "sms", "to": "+15551234567"},
                                     {"type": "webhook", "url": "https://hooks.example.com/x"}]}]
    assert w.tiers_text(tiers[:2]) == ("0 min: console, slack:noc · 5 min: user olga, "
                                       "pagerduty:noc, webhook:crm")
    assert w.parse_tiers(w.tiers_lines(tiers))[0] == tiers  # the editor round-trips
    with pytest.raises(Exception, match="tiers line 2: unknown target kind 'fax'"):
        w.parse_tiers("0: console\n1: fax:123")


def test_manager_creates_a_policy_through_the_form(engine) -> None:
    make_users(engine)
    at = open_page("maria", "manager")
    at.text_input(key="pol_new_name").input("payments")
    at.multiselect(key="pol_new_sev").set_value(["critical", "high"])
    at.text_input(key="pol_new_service").input("payments")
    at.text_area(key="pol_new_labels").input("env=prod")
    at.text_area(key="pol_new_tiers").input("0: console, slack:noc\n5: user:olga, "
                                            "email:pay@example.com")
    at.number_input(key="pol_new_times").set_value(2)
    at.number_input(key="pol_new_every").set_value(10)
    at.number_input(key="pol_new_ack").set_value(60)
    at.number_input(key="pol_new_priority").set_value(10)
    click(at, "Create policy")
    assert not at.error, [e.value for e in at.error]
    assert "Policy 'payments' created" in at.success[0].value
    [new] = [p for p in policies(engine) if p.name == "payments"]
    assert new.tiers == [
        {"delay_s": 0, "targets": [{"type": "console"}, {"type": "slack", "webhook": "noc"}]},
        {"delay_s": 300, "targets": [{"type": "user", "username": "olga"},
                                     {"type": "email", "to": "pay@example.com"}]}]
    assert new.match == {"severity": ["critical", "high"], "service": "payments",
                         "labels": {"env": "prod"}}
    assert (new.repeat, new.ack_timeout_s, new.priority, new.created_by) == (
        {"every_s": 600, "times": 2}, 3600, 10, "maria")
    table = frame(at, "Tiers")
    assert table["Name"].tolist()[0] == "payments"  # priority 10 sorts first
    assert table["Tiers"].iloc[0] == ("0 min: console, slack:noc · "
                                      "5 min: user olga, email:pay@example.com")
    assert table["Repeat"].iloc[0] == "every 10 min × 2"


@pytest.mark.parametrize("tiers, message", [
    ("0: console\n5 user:olga", "tiers line 2: write delay_minutes"),
    ("0: console\n\n5: email:not-an-address", "tiers line 3 (tiers[1].targets[0].to): must be"),
    ("0: console\n5: user:nobody", "tiers line 2 (tiers[1].targets[0].username): no active user"),
    ("5: console\n1: console", "tiers line 2 (tiers[1].delay_s): must be greater"),
])
def test_bad_tier_line_is_refused_and_nothing_stored(engine, tiers: str, message: str) -> None:
    make_users(engine)
    before = len(policies(engine))
    at = open_page("maria", "manager")
    at.text_input(key="pol_new_name").input("broken")
    at.text_area(key="pol_new_tiers").input(tiers)
    click(at, "Create policy")
    assert at.error and message in at.error[0].value.replace("\\", ""), at.error
    assert len(policies(engine)) == before


def test_manager_disables_and_edits_a_policy(engine) -> None:
    make_users(engine)
    at = open_page("maria", "manager")
    at.session_state["pol_table"] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    medium = policies(engine)[2]
    assert medium.name == "medium" and medium.enabled
    at.button(key="pol_toggle").click().run()
    assert "Policy 'medium' disabled" in at.success[0].value
    assert policies(engine)[2].enabled is False
    [tiers] = [t for t in at.text_area if t.label == "Tiers"]
    assert tiers.value == "0: slack:noc" and tiers.key.startswith(f"pol_{medium.id}_")
    tiers.input("0: slack:noc\n30: user:olga")
    click(at, "Save policy")
    edited = policies(engine)[2]
    assert edited.tiers[1] == {"delay_s": 1800, "targets": [{"type": "user", "username": "olga"}]}
    assert edited.enabled is False and edited.updated_by == "maria"


def test_viewer_sees_the_policies_but_no_editor(engine) -> None:
    make_users(engine)
    at = open_page("victor", "viewer")
    assert frame(at, "Tiers")["Name"].tolist() == ["critical", "high", "medium", "low and info"]
    assert not at.text_area and not at.text_input
    assert not [b for b in at.button if b.label.startswith(("Create", "Send test"))]


def test_alert_timeline_shows_the_fired_tier_and_its_deliveries(engine) -> None:
    alert = fired_alert(engine)
    at = open_page("victor", "viewer", alert=str(alert))
    assert at.number_input(key="tl_alert").value == alert
    summary = dict(frame(at, "Field").values.tolist())
    assert summary["Policy"] == "critical" and summary["State"] == "active"
    assert summary["Tiers fired"] == "1" and summary["Next step due"] != "nothing pending"
    rows = frame(at, "Fired at")
    got = {r["Channel"]: r for _, r in rows.iterrows()}
    assert set(got) == {"console", "pagerduty", "slack"}
    assert (got["console"]["Tier"], got["console"]["Status"], got["console"]["Attempts"]) == (
        "1", "sent", 1)
    assert got["slack"]["Status"] == "failed" and got["slack"]["Target"] == "slack:noc"
    assert got["slack"]["Last error"] == "ALERTDESK_SLACK_WEBHOOK_NOC is not set"
    styles = w.style_failed(rows).to_html()
    assert styles.count("#ffebee") >= 1  # the failed row is painted


def test_unknown_alert_says_so(engine) -> None:
    make_users(engine)
    at = open_page("victor", "viewer", alert="999999")
    assert "alert 999999 does not exist" in at.error[0].value


def test_delivery_log_highlights_failures_and_filters_by_status(engine) -> None:
    alert = fired_alert(engine)
    at = open_page("olga", "operator")
    log = frame(at, "Recipient")
    assert sorted(log["Status"]) == ["failed", "failed", "sent"]
    assert set(log["Alert"]) == {str(alert)}
    assert any("3 of 3 notifications · 2 failed" in c.value for c in at.caption)
    at.selectbox(key="log_status").set_value("failed").run()
    log = frame(at, "Recipient")
    assert sorted(log[["Channel", "Recipient", "Status"]].values.tolist()) == [
        ["pagerduty", "pagerduty:noc", "failed"], ["slack", "slack:noc", "failed"]]
    at.selectbox(key="log_status").set_value("All")
    at.selectbox(key="log_channel").set_value("console").run()
    assert frame(at, "Recipient")["Status"].tolist() == ["sent"]
    at.number_input(key="log_alert").set_value(alert + 1).run()
    assert frame(at, "Recipient").empty
    assert not [b for b in at.button if b.label.startswith("Send test")]  # operators: no test


def test_manager_sends_test_notifications(engine) -> None:
    make_users(engine)
    at = open_page("maria", "manager")
    click(at, "Send test via console")
    assert "via console to console: sent (provider id console:" in at.success[0].value
    at.selectbox(key="test_channel").set_value("pagerduty").run()
    at.text_input(key="test_pagerduty_target").input("noc")
    click(at, "Send test via pagerduty")
    assert "ALERTDESK_PAGERDUTY_ROUTING_KEY_NOC is not set" in at.error[0].value.replace("\\", "")
    with engine.connect() as c:
        sent = c.execute(sa.text("select channel, status, reason, attempts from notifications "
                                 "order by id")).all()
    assert [tuple(r) for r in sent] == [("console", "sent", "test", 1),
                                        ("pagerduty", "failed", "test", 1)]
    log = frame(at, "Recipient")
    assert log["Reason"].tolist() == ["test", "test"]
    assert log["Status"].tolist() == ["failed", "sent"]  # newest first


def test_alert_page_links_to_its_escalation(engine) -> None:
    alert = fired_alert(engine)
    at = app_as("olga").run()
    at.switch_page("../pages/alert.py")
    at.query_params["id"] = str(alert)
    at.run()
    links = [e.proto for e in at.get("page_link")]
    assert any(p.page.endswith("escalation") and "alert=" + str(alert) in str(p.query_string)
               for p in links), links


def test_operator_previews_routing_and_a_viewer_cannot(engine) -> None:
    make_users(engine)
    at = open_page("olga", "operator")
    at.selectbox(key="route_sev").set_value("low")
    at.text_input(key="route_service").input("web")
    at.text_input(key="route_labels").input("team=db")
    next(b for b in at.button if b.label == "Preview routing").click()
    at.run()
    assert not at.exception, at.exception
    assert "Policy 'low and info'" in at.success[0].value
    assert frame(at, "Notifies")["Notifies"].tolist() == ["slack noc"]
    verdicts = dict(zip(frame(at, "Verdict")["Policy"], frame(at, "Verdict")["Verdict"]))
    assert verdicts["low and info"] == "chosen"
    assert verdicts["critical"] == "severity low is not critical"
    at.text_input(key="route_labels").input("team")
    next(b for b in at.button if b.label == "Preview routing").click()
    at.run()
    assert "'team' is not name=value" in at.error[0].value
    viewer = open_page("victor", "viewer")
    assert not [b for b in viewer.button if b.label == "Preview routing"]
