"""Escalation: the policies (managers edit them), one alert's escalation timeline (which
tier fired when, to whom, over what, delivered or not) and the delivery log with its
filters, failed deliveries in red, CSV, and a test notification per channel (managers).

Tiers are typed one per line, ``delay_minutes: target, target`` (dashboard/
escalation_widgets.py): ``0: console, slack:noc`` then ``5: user:olga, pagerduty:noc``.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import streamlit as st

from core import db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.errors import AlertdeskError, FieldError, NotFound
from core.escalation.store import alert_timeline, create_policy, list_policies, replace_policy
from core.notify.base import CHANNELS, STATUSES
from core.notify.deliver import send_test
from core.notify.outbox import LogFilter, delivery_log
from core.notify.vault import validate_target
from core.severity import SEVERITIES
from dashboard import escalation_widgets as w
from dashboard import ui
from dashboard.routing_widget import routing_box

TABS = ["Policies", "Alert timeline", "Delivery log"]
PERIODS = {"Last 24 hours": timedelta(days=1), "Last 7 days": timedelta(days=7),
           "Last 30 days": timedelta(days=30)}
LOG_LIMIT = 500
TEST_FIELD = {  # channel -> (label, placeholder) of the one target field
    "email": ("Email address", "ops@example.com"), "sms": ("Phone (E.164)", "+15551234567"),
    "slack": ("Webhook name or URL", "noc (reads ALERTDESK_SLACK_WEBHOOK_NOC)"),
    "webhook": ("URL or URL name", "crm (reads ALERTDESK_WEBHOOK_URL_CRM)"),
    "pagerduty": ("Routing key name", "noc (reads ALERTDESK_PAGERDUTY_ROUTING_KEY_NOC)"),
}
TIERS_HELP = ("One tier per line: delay in minutes, a colon, targets separated by commas. "
              "Targets: console, user:olga, email:ops@example.com, sms:+15551234567, "
              "slack:noc, webhook:crm, pagerduty:noc (names read ALERTDESK_* secrets).")


# --- policies -----------------------------------------------------------------------------

def save_policy(actor: Actor, policy_id: int | None, values: dict[str, Any]) -> None:
    """Create or replace (PUT) from the editor; errors name the field or the line."""
    lines: list[int] = []
    try:
        body, lines = w.policy_body(values)
        with db.transaction(ui.engine()) as s:
            if policy_id is None:
                create_policy(s, body, actor, SYSTEM_CLOCK.now())
            else:
                replace_policy(s, policy_id, body, actor, SYSTEM_CLOCK.now())
    except FieldError as err:
        st.session_state["pol_outcome"] = ("error", w.explain(err, lines))
    except AlertdeskError as err:
        st.session_state["pol_outcome"] = ("error", str(err))
    else:
        done = "created" if policy_id is None else f"#{policy_id} saved"
        st.session_state["pol_outcome"] = ("success", f"Policy {body['name']!r} {done}")


def _match_fields(k: str, p: dict[str, Any]) -> dict[str, Any]:
    match = p.get("match") or {}
    c1, c2 = st.columns(2)
    return {
        "severity": c1.multiselect("Severities (none: any)", SEVERITIES,
                                   default=match.get("severity") or [], key=f"{k}_sev"),
        "service": c2.text_input("Service (empty: any)", match.get("service") or "",
                                 key=f"{k}_service"),
        "labels": st.text_area("Labels (one key=value per line, all must match)",
                               "\n".join(f"{a}={b}" for a, b in (match.get("labels") or {}).items()),
                               key=f"{k}_labels", height=68),
    }


def _timing_fields(k: str, p: dict[str, Any]) -> dict[str, Any]:
    rep = p.get("repeat") or {}
    c1, c2, c3 = st.columns(3)
    return {
        "repeat_every_min": c1.number_input("Repeat last tier every (min)", 1, 10080,
                                            int(rep.get("every_s", 900)) // 60, key=f"{k}_every"),
        "repeat_times": c2.number_input("Repeat times (0: no repeat)", 0, 100,
                                        int(rep.get("times", 0)), key=f"{k}_times"),
        "ack_timeout_min": c3.number_input("Ack timeout (min; 0: off)", 0, 10080,
                                           int(p.get("ack_timeout_s") or 0) // 60,
                                           key=f"{k}_ack"),
        **_threshold_fields(k, p),
    }


def _threshold_fields(k: str, p: dict[str, Any]) -> dict[str, Any]:
    th = p.get("threshold") or {}
    c1, c2, _ = st.columns(3)
    return {
        "threshold_alerts": c1.number_input(
            "Page only after N alerts (0: at once)", 0, 10000, int(th.get("alerts", 0)),
            key=f"{k}_th_alerts", help="An incident pages once N of its alerts arrived "
                                       "within the minutes on the right"),
        "threshold_min": c2.number_input("… within (min)", 1, 1440,
                                         int(th.get("within_s", 300)) // 60, key=f"{k}_th_min"),
    }


def policy_form(actor: Actor, p: dict[str, Any]) -> None:
    """The editor: empty for a new policy, filled from ``p`` to edit it."""
    pid = p.get("id")  # the stored version is in the key: a toggle or save refills the form
    k = f"pol_{pid}_{p['updated_at'].timestamp():.0f}" if pid else "pol_new"
    with st.form(k):
        st.subheader(f"Edit policy #{pid}" if pid else "New policy")
        c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
        values: dict[str, Any] = {
            "name": c1.text_input("Name", p.get("name", ""), key=f"{k}_name"),
            "priority": c2.number_input("Priority", 0, 1_000_000, int(p.get("priority", 100)),
                                        key=f"{k}_priority", help="Lowest matching wins"),
            "enabled": c3.checkbox("Enabled", bool(p.get("enabled", True)), key=f"{k}_enabled"),
            **_match_fields(k, p),
            "tiers": st.text_area("Tiers", w.tiers_lines(p.get("tiers", [])), key=f"{k}_tiers",
                                  height=100, help=TIERS_HELP,
                                  placeholder="0: console, slack:noc\n5: user:olga"),
            **_timing_fields(k, p),
            "description": st.text_input("Description", p.get("description") or "",
                                         key=f"{k}_description"),
            "severity_escalation": p.get("severity_escalation"),  # kept as it is
            "renotify_after": p.get("renotify_after"),            # kept as it is (API)
        }
        if st.form_submit_button("Save policy" if pid else "Create policy", type="primary"):
            save_policy(actor, pid, values)
            st.rerun()


def policy_actions(actor: Actor, policy: dict[str, Any]) -> None:
    if w.has_sealed(policy):  # masked secrets would be stored masked: the API re-sends them
        st.info(f"Policy {policy['name']!r} holds secrets given in clear; change it through "
                "the API (PUT /api/v1/escalation-policies) with the secrets again.")
        return
    verb = "Disable" if policy["enabled"] else "Enable"
    st.button(f"{verb} policy {policy['name']!r}", key="pol_toggle", on_click=ui.write_action,
              args=("pol_outcome", f"Policy {policy['name']!r} {verb.lower()}d", replace_policy,
                    int(policy["id"]), {**w.editable(policy), "enabled": not policy["enabled"]},
                    actor, SYSTEM_CLOCK.now()))
    policy_form(actor, policy)


def policies_tab(actor: Actor) -> None:
    ui.show_outcome("pol_outcome")
    with db.transaction(ui.engine()) as s:
        rows = list_policies(s)
    df = w.policies_frame(rows)
    manager = actor.can("manager")
    event = st.dataframe(df, hide_index=True, width="stretch", key="pol_table",
                         on_select="rerun" if manager else "ignore", selection_mode="single-row",
                         column_config={"Tiers": st.column_config.TextColumn(width="large")})
    st.caption(f"{len(df)} policies in evaluation order (lowest priority, then the most "
               "specific, then the oldest): an alert follows the first enabled match"
               + (" · select one to edit it" if manager else ""))
    st.download_button("Download CSV", df.to_csv(index=False).encode(), "escalation-policies.csv",
                       "text/csv", key="pol_csv")
    if actor.can("operator"):
        routing_box()
    if not manager:
        return
    picked = event.selection.rows if event is not None else []
    if picked:
        policy_actions(actor, rows[picked[0]])
    else:
        policy_form(actor, {})


# --- one alert's timeline -----------------------------------------------------------------

def _alert_from_url() -> int | None:
    try:
        value = int(st.query_params.get("alert", ""))
    except ValueError:
        return None
    return value if value > 0 else None


def escalation_summary(esc: dict[str, Any] | None) -> None:
    if esc is None:
        st.info("No escalation: no enabled policy matched this alert, or the worker has not "
                "run since it came in.")
        return
    tz = ui.user_tz()
    state = esc["state"] + (f" ({esc['stopped_reason']})" if esc.get("stopped_reason") else "")
    pairs = [("Policy", esc["policy_snapshot"]["name"]), ("Started", ui.fmt_time(esc["started_at"], tz)),
             ("State", state), ("Tiers fired", esc["next_tier"]),
             ("Repeats done", esc["repeats_done"]),
             ("Next step due", ui.fmt_time(esc["next_at"], tz) or "nothing pending"),
             ("Tiers (as frozen)", w.tiers_text(esc["policy_snapshot"]["tiers"]))]
    st.dataframe(ui.kv_frame(pairs), hide_index=True, width="stretch", key="tl_summary",
                 column_config={"Field": st.column_config.TextColumn(width=140)})


def timeline_tab() -> None:
    alert_id = st.number_input("Alert id", min_value=1, value=_alert_from_url(), step=1,
                               format="%d", placeholder="alert id", key="tl_alert")
    if not alert_id:
        st.caption("Type an alert id, or open this tab from an alert's page.")
        return
    alert_id = int(alert_id)
    if st.query_params.get("alert") != str(alert_id):
        st.query_params["alert"] = str(alert_id)  # shareable: /escalation?alert=N
    try:
        with db.transaction(ui.engine()) as s:
            tl = alert_timeline(s, alert_id)
    except NotFound as err:
        st.error(ui.plain(str(err)))
        return
    st.page_link(ui.ALERT_PAGE, label=f"Open alert #{alert_id}", icon=":material/description:",
                 query_params={"id": str(alert_id)})
    escalation_summary(tl["escalation"])
    df = w.timeline_frame(tl, ui.user_tz())
    st.dataframe(w.style_failed(df), hide_index=True, width="stretch", key=f"tl_table_{alert_id}",
                 column_config={"Last error": st.column_config.TextColumn(width="large")})
    st.caption(f"{len(df)} rows · times in {ui.user_tz().key}")
    st.download_button("Download CSV", df.to_csv(index=False).encode(),
                       f"escalation-alert-{alert_id}.csv", "text/csv", key="tl_csv")


# --- the delivery log ------------------------------------------------------------------------

def log_filter() -> LogFilter:
    c1, c2, c3, c4 = st.columns(4)
    status = c1.selectbox("Status", ["All", *STATUSES], key="log_status")
    channel = c2.selectbox("Channel", ["All", *CHANNELS], key="log_channel")
    period = c3.selectbox("Period", list(PERIODS), key="log_period")
    alert = c4.number_input("Alert id", min_value=1, value=None, step=1, format="%d",
                            placeholder="all alerts", key="log_alert")
    return LogFilter(status=() if status == "All" else (status,),
                     channel=() if channel == "All" else (channel,),
                     alert_id=int(alert) if alert else None,
                     start=SYSTEM_CLOCK.now() - PERIODS[period])


def send_test_now(actor: Actor, channel: str, value: str) -> None:
    """The same core call as POST /api/v1/notifications/test; logged with reason "test"."""
    try:
        if not actor.can("manager"):
            raise AlertdeskError("sending a test notification needs the manager role")
        target = w.test_target(channel, value)
        validate_target(channel, target)
        out = send_test(ui.engine(), channel, target, SYSTEM_CLOCK.now(), actor.name)
    except AlertdeskError as err:
        st.session_state["test_outcome"] = ("error", str(err))
        return
    what = f"Test notification #{out['id']} via {channel} to {out['recipient']}"
    st.session_state["test_outcome"] = (
        ("success", f"{what}: sent (provider id {out['provider_id']})")
        if out["status"] == "sent" else ("error", f"{what}: {out['status']}: {out['last_error']}"))


def test_form(actor: Actor) -> None:
    st.subheader("Send a test notification")
    ui.show_outcome("test_outcome")
    channel = st.selectbox("Channel", CHANNELS, index=CHANNELS.index("console"), key="test_channel")
    with st.form(f"test_{channel}"):
        value = ""
        if channel in TEST_FIELD:
            label, placeholder = TEST_FIELD[channel]
            value = st.text_input(label, key=f"test_{channel}_target", placeholder=placeholder)
        else:
            st.caption("The console channel writes one line to this server's log.")
        if st.form_submit_button(f"Send test via {channel}", type="primary"):
            send_test_now(actor, channel, value)
            st.rerun()


def log_tab(actor: Actor) -> None:
    f = log_filter()
    with db.transaction(ui.engine()) as s:
        rows, total = delivery_log(s, f, 1, LOG_LIMIT)
    tz = ui.user_tz()
    df = w.log_frame(rows, tz)
    st.dataframe(w.style_failed(df), hide_index=True, width="stretch", key="log_table",
                 column_config={"Last error": st.column_config.TextColumn(width="medium")})
    failed = int((df["Status"] == "failed").sum())
    st.caption(f"{len(df)} of {total} notifications · {failed} failed · times in {tz.key}")
    st.download_button("Download CSV", df.to_csv(index=False).encode(), "delivery-log.csv",
                       "text/csv", key="log_csv")
    if actor.can("manager"):
        test_form(actor)


def render() -> None:
    actor = ui.current_actor()
    ui.compact_layout()
    st.title("Escalation")
    st.caption("Who gets told, when, over what channel, and whether it got there.")
    policies, timeline, log = st.tabs(TABS, default=TABS[1] if _alert_from_url() else None)
    with policies:
        policies_tab(actor)
    with timeline:
        timeline_tab()
    with log:
        log_tab(actor)


render()
