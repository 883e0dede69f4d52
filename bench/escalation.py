"""The escalation tick figure: one ``core.worker.tick`` (every job, delivery included) over
the bench's ~10,000 open alerts with escalation policies attached.

Set-up (bench database only): every open alert gets an ``alert_escalations`` row frozen
from the seeded policy of its severity (the critical one for low/info), console targets
only so delivery stays local. Alerts in 'new' are active, their next step spread evenly
over the coming hour (a steady state: ~1 % falls due per 30 s tick; the SLA-breach
expedite already used), the others stopped. ``cycle`` is fresh per run so the
notifications' idempotency keys never collide with an earlier run's.

Figures: ``escalation_tick_ms`` (median of ``runs`` ticks, 30 s of injected time apart),
``escalation_tick_max_ms``, ``escalation_rows`` (rows attached), ``escalation_fired_per_tick``.
"""
from __future__ import annotations

import logging
import statistics
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from core import worker

ATTACH_SQL = """
with pol as (
    select name, jsonb_build_object('name', name, 'description', description, 'match', match,
        'tiers', (select jsonb_agg(jsonb_set(t, '{targets}', '[{"type": "console"}]'))
                  from jsonb_array_elements(tiers) t),
        'repeat', repeat, 'ack_timeout_s', ack_timeout_s,
        'severity_escalation', severity_escalation, 'priority', priority,
        'enabled', enabled) as snap
    from escalation_policies where name in ('critical', 'high', 'medium')
), open_alerts as (
    select a.id, a.state, a.created_at, row_number() over (order by a.id) as n,
           count(*) over () as total,
           case when a.severity in ('critical', 'high', 'medium') then a.severity
                else 'critical' end as pol
    from alerts a where a.state in ('new','acknowledged','investigating','silenced')
)
insert into alert_escalations (alert_id, policy_snapshot, started_at, next_tier, repeats_done,
    next_at, state, stopped_reason, cycle, expedited, created_at, updated_at)
select o.id, pol.snap, :now - interval '10 minutes', 1, 0,
       case when o.state = 'new' then :now - interval '60 seconds'
            + make_interval(secs => 3660.0 * o.n / o.total) end,
       case when o.state = 'new' then 'active' else 'stopped' end,
       case when o.state <> 'new' then o.state end,
       :cycle, 'sla_breach', :now, :now
from open_alerts o join pol on pol.name = o.pol
"""


def attach(engine: sa.Engine, now: datetime) -> int:
    """Replace the bench's escalation rows; returns how many open alerts got one."""
    with engine.begin() as conn:
        conn.execute(sa.text("delete from alert_escalations"))
        result = conn.execute(sa.text(ATTACH_SQL), {"now": now, "cycle": int(time.time())})
        conn.execute(sa.text("analyze alert_escalations"))
    return int(result.rowcount or 0)


def run(engine: sa.Engine, runs: int = 7) -> dict[str, Any]:
    """Attach the rows, then time ``runs`` ticks (the first one warms up, not counted)."""
    logging.getLogger("alertdesk.notify").setLevel(logging.ERROR)  # console sends log lines
    now = datetime.now(timezone.utc)
    rows = attach(engine, now)
    times: list[float] = []
    fired: list[int] = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        done = worker.tick(engine, now + timedelta(seconds=30 * i))
        if i:
            times.append((time.perf_counter() - t0) * 1000)
            fired.append(done.get("escalate_due", 0))
    return {"escalation_tick_ms": round(statistics.median(times), 1),
            "escalation_tick_max_ms": round(max(times), 1),
            "escalation_rows": rows,
            "escalation_fired_per_tick": round(statistics.median(fired))}
