"""PagerDuty follow-ups: when an alert that paged PagerDuty is acknowledged or resolved in
Alertdesk, PagerDuty hears it too (``event_action`` acknowledge / resolve on the same
``dedup_key``), so the incident there does not keep paging the next responder.

A worker job, set-based: alerts with a state change in the last ``LOOKBACK`` (read from the
transition index ``alert_events_changes_at``, so the cost follows recent activity, not the
size of the history), that are now acknowledged/investigating or resolved/closed and have a
*sent* PagerDuty trigger, get one follow-up per PagerDuty target through the outbox. Its
idempotency key ``pd:<alert>:<reopen count>:<action>:<recipient>`` makes the job safe to
run every tick and on many workers; a reopened alert that pages again gets its own
follow-ups. The target row (with its sealed routing key) is copied as it is; the payload's
``kind`` "followup" keeps the delivery from cancelling it as a stale page. A worker
down for longer than ``LOOKBACK`` skips follow-ups of older changes (PagerDuty's own
acknowledgement timeout still applies there).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

LOOKBACK = timedelta(hours=1)

FOLLOWUPS_SQL = sa.text("""
with changed as (
    select distinct e.alert_id from alert_events e
    where e.kind = 'transition' and e.from_state is distinct from e.to_state
      and e.at > :since and e.at <= :now
), due as (
    select distinct on (n.alert_id, n.recipient)
           n.alert_id, n.group_id, n.target, n.recipient, a.reopen_count, a.summary,
           a.severity, a.service, a.device_id,
           case when a.state in ('resolved','closed') then 'resolve' else 'acknowledge' end
               as action
    from changed c
    join alerts a on a.id = c.alert_id
        and a.state in ('acknowledged','investigating','resolved','closed')
    join notifications n on n.alert_id = a.id and n.channel = 'pagerduty'
        and n.status = 'sent' and coalesce(n.payload ->> 'event_action', 'trigger') = 'trigger'
    order by n.alert_id, n.recipient, n.id
)
insert into notifications (idempotency_key, alert_id, group_id, channel, target, recipient,
    payload, reason, status, attempts, next_attempt_at, created_at)
select 'pd:' || alert_id || ':' || reopen_count || ':' || action || ':' || recipient,
       alert_id, group_id, 'pagerduty', target, recipient,
       jsonb_build_object('kind', 'followup', 'event_action', action, 'summary', summary,
                          'severity', severity,
                          'service', service, 'device_id', device_id),
       'alert ' || case action when 'resolve' then 'resolved' else 'acknowledged' end
           || ' in Alertdesk',
       'pending', 0, :now, :now
from due
on conflict (idempotency_key) do nothing
""")


def pagerduty_followups(session: Session, now: datetime) -> int:
    """Worker job: queue the acknowledge/resolve events PagerDuty has not heard yet."""
    result = session.execute(FOLLOWUPS_SQL, {"now": now, "since": now - LOOKBACK})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
