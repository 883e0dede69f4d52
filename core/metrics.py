"""Alertdesk's own state in the Prometheus text format, so the NOC's Grafana can chart it.

Every figure is one aggregate query at scrape time (no counters kept in memory: any number
of API replicas report the same numbers):

- ``alertdesk_open_alerts{severity,state,service}``: open alerts;
- ``alertdesk_sla_breached_open_alerts{severity}``: open alerts whose running SLA clock is
  past due;
- ``alertdesk_notifications{channel,status}``: outbox rows by channel and status (sent,
  failed, rate_limited, ... — they only accumulate, so ``rate()`` works as on a counter);
- ``alertdesk_oncall{schedule,username}``: 1 for whoever is on call now per enabled
  schedule (username "" when nobody is: a gap you can alert on);
- ``alertdesk_worker_lag_seconds{queue}``: how long the oldest due piece of worker work has
  been waiting (escalation steps, deliveries); 0 when nothing is overdue. A growing value
  means no worker is running or it cannot keep up.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from sqlalchemy.orm import Session

from core.lifecycle import OPEN_SQL
from core.oncall import store as oncall_store

OPEN_ALERTS_SQL = f"""
select severity, state, service, count(*) as n,
       count(*) filter (where sla_due_at < :now and resolved_at is null) as breached
from alerts where state in {OPEN_SQL} group by 1, 2, 3
"""
NOTIFY_SQL = "select channel, status, count(*) as n from notifications group by 1, 2"
LAG_SQL = """
select 'escalation' as queue, coalesce(extract(epoch from :now - min(next_at)), 0) as lag
from alert_escalations where state = 'active' and next_at <= :now
union all
select 'delivery', coalesce(extract(epoch from :now - min(next_attempt_at)), 0)
from notifications where status in ('pending', 'sending') and next_attempt_at <= :now
"""


def render(session: Session, now: datetime) -> bytes:
    """The exposition text (``text/plain; version=0.0.4``)."""
    registry = CollectorRegistry()
    _open_alerts(session, now, registry)
    notified = Gauge("alertdesk_notifications", "Notifications in the outbox by status",
                     ["channel", "status"], registry=registry)
    for r in session.execute(sa.text(NOTIFY_SQL)):
        notified.labels(r.channel, r.status).set(r.n)
    oncall = Gauge("alertdesk_oncall", "Who is on call now (1), per enabled schedule",
                   ["schedule", "username"], registry=registry)
    for entry in oncall_store.current(session, None, now):
        oncall.labels(entry["schedule_name"], entry["username"] or "").set(1)
    lag = Gauge("alertdesk_worker_lag_seconds", "Age of the oldest overdue worker item",
                ["queue"], registry=registry)
    for r in session.execute(sa.text(LAG_SQL), {"now": now}):
        lag.labels(r.queue).set(max(0.0, float(r.lag)))
    return generate_latest(registry)


def _open_alerts(session: Session, now: datetime, registry: CollectorRegistry) -> None:
    open_ = Gauge("alertdesk_open_alerts", "Open alerts", ["severity", "state", "service"],
                  registry=registry)
    breached = Gauge("alertdesk_sla_breached_open_alerts",
                     "Open alerts past their running SLA deadline", ["severity"],
                     registry=registry)
    per_severity: dict[str, int] = {}
    for r in session.execute(sa.text(OPEN_ALERTS_SQL), {"now": now}):
        open_.labels(r.severity, r.state, r.service).set(r.n)
        per_severity[r.severity] = per_severity.get(r.severity, 0) + int(r.breached)
    for severity, n in per_severity.items():
        breached.labels(severity).set(n)
