"""PagerDuty follow-ups: when an alert that paged PagerDuty is acknowledged or resolved in
Alertdesk, PagerDuty hears it too (``event_action`` acknowledge / resolve on the same
``dedup_key``), so the incident there does not keep paging the next responder.

A worker job, set-based, driven by the incidents still open from Alertdesk's side: sent
PagerDuty triggers not yet followed by a resolve (the partial index
``notifications_pagerduty_open``, migration 0014), so its cost follows the open incidents,
not the history or a burst of transitions, and a worker that was down catches up. For each
such alert now acknowledged/investigating or resolved/closed, one follow-up per PagerDuty
target goes through the outbox; its idempotency key ``pd:<alert>:<reopen count>:<action>:
<recipient>`` makes the job safe to run every tick and on many workers, and a reopened
alert that pages again gets its own. Queuing the resolve marks the alert's triggers
``followed_up``, which takes them out of the index. The target row (with its sealed
routing key) is copied as it is; the payload's ``kind`` "followup" keeps the delivery from
cancelling it as a stale page.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

OPEN_TRIGGER = """n.channel = 'pagerduty' and n.status = 'sent'
      and not (n.payload ? 'event_action') and not (n.payload ? 'followed_up')"""
# A follow-up's idempotency key, from SQL expressions for its parts: one per alert, reopen,
# action and PagerDuty target (core/respond/pagerduty.py writes it too, to stop an echo).
FOLLOWUP_KEY = "'pd:' || {alert} || ':' || {reopen} || ':' || {action} || ':' || {recipient}"

FOLLOWUPS_SQL = sa.text(f"""
with due as (
    select distinct on (n.alert_id, n.recipient)
           n.alert_id, n.group_id, n.target, n.recipient, a.reopen_count, a.summary,
           a.severity, a.service, a.device_id,
           case when a.state in ('resolved','closed') then 'resolve' else 'acknowledge' end
               as action
    from notifications n
    join alerts a on a.id = n.alert_id
        and a.state in ('acknowledged','investigating','resolved','closed')
    where {OPEN_TRIGGER}
    order by n.alert_id, n.recipient, n.id
), queued as (
    insert into notifications (idempotency_key, alert_id, group_id, channel, target,
        recipient, payload, reason, status, attempts, next_attempt_at, created_at)
    select {FOLLOWUP_KEY.format(alert="alert_id", reopen="reopen_count", action="action",
                                recipient="recipient")},
           alert_id, group_id, 'pagerduty', target, recipient,
           jsonb_build_object('kind', 'followup', 'event_action', action, 'summary', summary,
                              'severity', severity, 'service', service,
                              'device_id', device_id),
           'alert ' || case action when 'resolve' then 'resolved' else 'acknowledged' end
               || ' in Alertdesk',
           'pending', 0, :now, :now
    from due
    on conflict (idempotency_key) do nothing
    returning 1
), closed as (
    update notifications n set payload = n.payload || '{{"followed_up": "resolve"}}'
    where {OPEN_TRIGGER}
      and n.alert_id in (select alert_id from due where action = 'resolve')
)
select count(*) from queued
""")


def pagerduty_followups(session: Session, now: datetime) -> int:
    """Worker job: queue the acknowledge/resolve events PagerDuty has not heard yet."""
    return int(session.scalar(FOLLOWUPS_SQL, {"now": now}) or 0)
