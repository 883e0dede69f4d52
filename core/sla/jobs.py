"""Worker job: an 'sla_breach' event on the alert's timeline the tick after a running SLA
clock passes its deadline — once per clock (TTA: no human response by ``tta_due_at``; TTR:
not resolved by ``ttr_due_at``). Open alerts only, silenced ones included (a silence does
not stop the SLA clock). One statement; rows claimed with SKIP LOCKED."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.lifecycle import OPEN_SQL

SQL = f"""
with due as (
    select a.id, a.state,
           (a.tta_breach_at is null and a.acknowledged_at is null
            and a.tta_due_at <= :now) as tta,
           (a.ttr_breach_at is null and a.ttr_due_at <= :now) as ttr,
           a.tta_due_at, a.ttr_due_at, a.tta_target_s, a.ttr_target_s
    from alerts a
    where a.state in {OPEN_SQL} and a.sla_due_at <= :now
      and ((a.tta_breach_at is null and a.acknowledged_at is null and a.tta_due_at <= :now)
           or (a.ttr_breach_at is null and a.ttr_due_at <= :now))
    order by a.id
    for update of a skip locked
), upd as (
    update alerts a set tta_breach_at = case when due.tta then :now else a.tta_breach_at end,
                        ttr_breach_at = case when due.ttr then :now else a.ttr_breach_at end
    from due where a.id = due.id
    returning a.id
), clocks as (
    select due.id, due.state, 'TTA' as clock, due.tta_due_at as due_at, due.tta_target_s as target
    from due join upd on upd.id = due.id where due.tta
    union all
    select due.id, due.state, 'TTR', due.ttr_due_at, due.ttr_target_s
    from due join upd on upd.id = due.id where due.ttr
)
insert into alert_events (alert_id, at, actor, source, kind, from_state, to_state, note, metadata)
select id, :now, 'worker', 'worker', 'sla_breach', state, state,
       clock || ' target of ' || target || ' s missed (due ' || to_char(due_at at time zone 'UTC',
       'YYYY-MM-DD HH24:MI:SS') || ' UTC)',
       jsonb_build_object('clock', clock, 'due_at', due_at, 'target_s', target)
from clocks order by id, clock
"""


def mark_sla_breaches(session: Session, now: datetime) -> int:
    """Returns how many breach events were written."""
    return int(getattr(session.execute(sa.text(SQL), {"now": now}), "rowcount", 0) or 0)
