"""Flapping: an alert whose state changed more than ``max_changes`` times within the last
``window`` (default 4 in 30 min, ``settings['flapping']``) is flagged ``flapping``.

A state change is a ``transition`` event whose from/to states differ, whoever made it:
an operator's action, a source resolving or re-firing (ingest), the worker ending a
silence. The window is ``(now - window, now]``: a change exactly ``window`` old no longer
counts. Flagged alerts keep the flag, whatever their state, until the count drops back to
``max_changes`` or fewer; a flapping alert typically sits resolved between two flaps.

Damping: the escalation engine sends at most one notification per flapping alert per
window (:func:`damped`); alerts that do not flap are never damped.

The pure rule (:func:`is_flapping`) and the worker job (:func:`mark_flapping`, one
statement) count the same thing; the integration tests hold them to it.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.actor import WORKER
from core.errors import FieldError
from core.tables import settings

SETTING_KEY = "flapping"
DEFAULT_MAX_CHANGES = 4
DEFAULT_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True)
class FlappingRule:
    max_changes: int = DEFAULT_MAX_CHANGES
    window: timedelta = DEFAULT_WINDOW

    @classmethod
    def from_setting(cls, value: object) -> FlappingRule:
        """``{"max_changes": 4, "window_s": 1800}``, checked; FieldError names the key."""
        if not isinstance(value, dict):
            raise FieldError(SETTING_KEY, "must be an object with max_changes and window_s")
        max_changes = value.get("max_changes", DEFAULT_MAX_CHANGES)
        window_s = value.get("window_s", int(DEFAULT_WINDOW.total_seconds()))
        for name, item in (("max_changes", max_changes), ("window_s", window_s)):
            if not isinstance(item, int) or isinstance(item, bool) or item < 1:
                raise FieldError(f"{SETTING_KEY}.{name}", "must be a whole number of 1 or more")
        return cls(max_changes, timedelta(seconds=window_s))


def is_flapping(change_times: Iterable[datetime], now: datetime, max_changes: int,
                window: timedelta) -> bool:
    """More than ``max_changes`` changes within ``(now - window, now]``."""
    since = now - window
    return sum(1 for t in change_times if since < t <= now) > max_changes


def damped(flapping: bool, last_notified_at: datetime | None, now: datetime,
           window: timedelta) -> bool:
    """Hold this notification back? Only for a flapping alert already notified within the
    last ``window``: at most one notification per flapping alert per window."""
    if not flapping or last_notified_at is None:
        return False
    return now - last_notified_at < window


def load_rule(session: Session) -> FlappingRule:
    """The rule from ``settings['flapping']``; the defaults when the row is absent."""
    value = session.scalar(sa.select(settings.c.value).where(settings.c.key == SETTING_KEY))
    return FlappingRule() if value is None else FlappingRule.from_setting(value)


# Candidates: alerts over the limit now, plus the flagged ones (partial index
# alerts_flapping); only rows whose flag must change are claimed (SKIP LOCKED: an alert
# being acted on is picked up next tick). The ``changes`` predicate repeats the partial
# index alert_events_changes_at, so the count is an index-only range scan.
MARK_SQL = """
with changes as (
    select alert_id, count(*) as n from alert_events
    where kind = 'transition' and from_state is distinct from to_state
      and at > :since and at <= :now
    group by alert_id
), cand as (
    select alert_id as id, n from changes where n > :max
    union all
    select a.id, coalesce(c.n, 0) from alerts a left join changes c on c.alert_id = a.id
    where a.flapping
), due as (
    select a.id, cand.n, cand.n > :max as flap
    from cand join alerts a on a.id = cand.id
    where a.flapping <> (cand.n > :max)
    order by a.id
    for update of a skip locked
), upd as (
    update alerts a set flapping = due.flap,
           flapping_since = case when due.flap then cast(:now as timestamptz) end
    from due where a.id = due.id
    returning a.id, a.state, a.flapping, due.n
)
insert into alert_events (alert_id, at, actor, source, kind, from_state, to_state, note, metadata)
select id, :now, :actor, :source, 'flapping', state, state,
       case when flapping then 'flapping: ' else 'stopped flapping: ' end
           || n || ' state changes in the last ' || :window_s || ' s',
       jsonb_build_object('flapping', flapping, 'changes', n, 'max_changes', :max,
                          'window_s', :window_s)
from upd
"""


def mark_flapping(session: Session, now: datetime) -> int:
    """Worker job: flag alerts with more than ``max_changes`` state changes in the window,
    clear the flag of those back at or under it, one ``flapping`` event each; returns how
    many flags changed. Idempotent: a second run at the same ``now`` changes nothing."""
    rule = load_rule(session)
    window_s = int(rule.window.total_seconds())
    result = session.execute(sa.text(MARK_SQL), {
        "now": now, "since": now - rule.window, "max": rule.max_changes,
        "window_s": window_s, "actor": WORKER.name, "source": WORKER.source})
    return int(getattr(result, "rowcount", 0) or 0)  # a CursorResult for DML

