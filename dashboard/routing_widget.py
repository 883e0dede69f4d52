"""The Escalation page's "Test routing" box: an alert (severity, service, labels) or an
alert id in, the policy it would get, why not the others, and whom each tier would reach
(core/escalation/preview.py, the worker's own rules). Operators and above: it shows
people's contacts."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import db
from core.clock import SYSTEM_CLOCK
from core.errors import AlertdeskError, FieldError
from core.escalation.preview import preview
from core.severity import SEVERITIES
from dashboard import ui


def parse_labels(text: str) -> dict[str, str]:
    """``team=db, env=prod`` -> a label map; FieldError names the part that is wrong."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise FieldError("labels", f"{part!r} is not name=value")
        out[key.strip()] = value.strip()
    return out


def routing_box() -> None:
    with st.expander("Test routing: which policy, who gets paged", expanded=False):
        with st.form("routing_form", border=False):
            c1, c2, c3, c4 = st.columns([1, 1, 2, 1])
            severity = c1.selectbox("Severity", SEVERITIES, key="route_sev")
            service = c2.text_input("Service", key="route_service")
            labels = c3.text_input("Labels", key="route_labels", placeholder="team=db, env=prod")
            alert_id = c4.number_input("or alert #", min_value=0, step=1, key="route_alert")
            asked = st.form_submit_button("Preview routing")
        if not asked:
            return
        try:
            body: dict[str, Any] = ({"alert_id": int(alert_id)} if alert_id else
                                    {"severity": severity, "service": service,
                                     "labels": parse_labels(labels)})
            with db.transaction(ui.engine()) as s:
                show(preview(s, body, SYSTEM_CLOCK.now()))
        except AlertdeskError as err:
            st.error(ui.plain(str(err)))


def show(p: dict[str, Any]) -> None:
    tz = ui.user_tz()
    chosen = p["policy"]
    if chosen is None:
        st.warning("No enabled policy matches: this alert would page nobody.")
    else:
        st.success(ui.plain(f"Policy '{chosen['name']}' (priority {chosen['priority']}, "
                            f"specificity {chosen['specificity']}); tier timers start after "
                            f"the {p['group_wait_s']} s group wait, "
                            f"at {ui.fmt_time(p['starts_at'], tz)}."))
        st.dataframe(pd.DataFrame({
            "Tier": [t["tier"] for t in p["tiers"]],
            "At": [ui.fmt_time(t["at"], tz) for t in p["tiers"]],
            "Notifies": ["; ".join(n["label"] for n in t["notify"]) or "nobody"
                         for t in p["tiers"]],
            "Problems": ["; ".join(t["problems"]) for t in p["tiers"]],
        }), hide_index=True, width="stretch", key="route_tiers")
    st.dataframe(pd.DataFrame({
        "Policy": [v["name"] for v in p["policies"]],
        "Priority": [v["priority"] for v in p["policies"]],
        "Verdict": ["chosen" if v["chosen"] else v.get("why_not", "") for v in p["policies"]],
    }), hide_index=True, width="stretch", key="route_policies")
