"""The SQL of the retention job (rules and the run itself: core/retention/cleanup.py).

Each function works on one id range of ``alerts`` or ``alert_groups`` inside the caller's
transaction; ids travel as one ``bigint[]`` parameter, so every step is one statement.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.alerts import recurrence

# Past retention: resolved or closed, and nothing about it (last signal, resolution,
# closing, any update) happened since the cutoff.
ELIGIBLE = """
    a.state in ('resolved', 'closed') and a.resolved_at < :cutoff
    and coalesce(a.closed_at, a.resolved_at) < :cutoff
    and a.last_seen_at < :cutoff and a.updated_at < :cutoff
"""

# Locked rows are skipped, not waited for: whoever holds one (a reopen, a concurrent run)
# wins, and the next run takes the alert if it is still past retention.
CANDIDATES = f"""
select a.id from alerts a
where a.id between :lo and :hi and {ELIGIBLE}
order by a.id {{lock}}
"""

# Rows outside the batch that point at a candidate: (candidate, referencing alert or None).
# A candidate stays while what points at it stays (core.retention.cleanup.deletable).
NEEDED_BY = """
select a.inhibited_by as target, a.id as referrer
from alerts a where a.inhibited_by = any(cast(:ids as bigint[]))
union
select t.alert_id, f.alert_id
from notifications t join notifications f on f.bundled_into = t.id
where t.alert_id = any(cast(:ids as bigint[])) and f.alert_id is distinct from t.alert_id
"""

# Candidates that stay whatever happens: a heartbeat's last miss (config points at it) and
# alerts with a message still in the outbox (the delivery worker may hold it).
PINNED = """
select alert_id from heartbeats where alert_id = any(cast(:ids as bigint[]))
union
select alert_id from notifications
where alert_id = any(cast(:ids as bigint[])) and status in ('pending', 'sending')
"""

# Dependent rows first, the alerts last; every FK to alerts is covered (the integration
# test compares this list with pg_constraint).
DELETES = (
    ("notification_attempts", """
        delete from notification_attempts na using notifications n
        where na.notification_id = n.id and n.alert_id = any(cast(:ids as bigint[]))"""),
    ("notifications", "delete from notifications where alert_id = any(cast(:ids as bigint[]))"),
    ("alert_events", "delete from alert_events where alert_id = any(cast(:ids as bigint[]))"),
    ("alert_escalations", "delete from alert_escalations where alert_id = any(cast(:ids as bigint[]))"),
    ("alerts", "delete from alerts where id = any(cast(:ids as bigint[]))"),
)
IDENTITIES = """select id, fingerprint, service, device_id from alerts
    where id = any(cast(:ids as bigint[]))"""
COUNTS = {
    "notification_attempts": """
        select count(*) from notification_attempts na join notifications n
            on n.id = na.notification_id where n.alert_id = any(cast(:ids as bigint[]))""",
    **{table: f"select count(*) from {table} where alert_id = any(cast(:ids as bigint[]))"
       for table in ("notifications", "alert_events", "alert_escalations")},
    "alerts": "select cardinality(cast(:ids as bigint[]))",
}

# Groups: resolved before the cutoff and left without members (or, for a dry run, whose
# members all go). ``{members}`` is the member test.
GROUPS = """
{verb} alert_groups g
where g.id in (
    select g.id from alert_groups g
    where g.id between :lo and :hi and g.status = 'resolved'
      and g.resolved_at < :cutoff and g.last_seen_at < :cutoff
      and not exists (select 1 from alerts a where a.group_id = g.id {members})
      and not exists (select 1 from notifications n where n.group_id = g.id {notes})
    {lock})
"""
MEMBERS_LEFT = ""
MEMBERS_KEPT = f"and (a.id = any(cast(:kept as bigint[])) or not ({ELIGIBLE}))"


def id_span(session: Session, table: str) -> tuple[int, int] | None:
    """(min id, max id) of ``alerts`` or ``alert_groups``; None when the table is empty."""
    assert table in ("alerts", "alert_groups")
    row = session.execute(sa.text(f"select min(id), max(id) from {table}")).one()
    return None if row[0] is None else (int(row[0]), int(row[1]))


def candidates(session: Session, lo: int, hi: int, cutoff: datetime, lock: bool) -> list[int]:
    sql = CANDIDATES.format(lock="for update skip locked" if lock else "")
    return [int(i) for i in session.execute(sa.text(sql),
                                            {"lo": lo, "hi": hi, "cutoff": cutoff}).scalars()]


def references(session: Session, ids: list[int]) -> tuple[set[int], list[tuple[int, int | None]]]:
    """(pinned candidates, (candidate, referrer) pairs) for the candidates ``ids``."""
    pinned = {int(i) for i in session.execute(sa.text(PINNED), {"ids": ids}).scalars()}
    pairs = [(int(t), None if r is None else int(r))
             for t, r in session.execute(sa.text(NEEDED_BY), {"ids": ids})]
    return pinned, pairs


def delete_alerts(session: Session, ids: Collection[int]) -> dict[str, int]:
    """Delete the alerts ``ids`` and every row that depends on them; rows per table. The alert
    after each deleted one is linked again to its previous occurrence still there
    (core/alerts/recurrence.py): it pointed at the deleted one."""
    session.execute(sa.text("set local alertdesk.retention = 'on'"))
    params = {"ids": list(ids)}
    gone = [dict(r) for r in session.execute(sa.text(IDENTITIES), params).mappings()]
    counts = {table: int(session.execute(sa.text(sql), params).rowcount)  # type: ignore[attr-defined]
              for table, sql in DELETES}
    recurrence.relink(session, gone)
    return counts


def count_alerts(session: Session, ids: Collection[int]) -> dict[str, int]:
    """What ``delete_alerts`` would delete, without deleting."""
    params = {"ids": list(ids)}
    return {table: int(session.execute(sa.text(sql), params).scalar_one())
            for table, sql in COUNTS.items()}


def delete_groups(session: Session, lo: int, hi: int, cutoff: datetime) -> int:
    sql = GROUPS.format(verb="delete from", members=MEMBERS_LEFT, notes="",
                        lock="for update skip locked")
    result = session.execute(sa.text(sql), {"lo": lo, "hi": hi, "cutoff": cutoff})
    return int(result.rowcount)  # type: ignore[attr-defined]


def count_groups(session: Session, lo: int, hi: int, cutoff: datetime, kept: list[int]) -> int:
    """Groups a real run would delete, given the candidates it would keep (``kept``)."""
    sql = GROUPS.format(verb="select count(*) from", members=MEMBERS_KEPT,
                        notes="and n.alert_id is null", lock="")
    return int(session.execute(sa.text(sql), {"lo": lo, "hi": hi, "cutoff": cutoff,
                                              "kept": kept}).scalar_one())
