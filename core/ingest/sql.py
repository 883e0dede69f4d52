"""The statements of the ingest path (core/ingest/batch.py), each over a whole batch.

1. RESOLVE: open alerts whose fingerprint is reported resolved -> resolved, with events.
2. LOOKUP: reopens a fingerprint's latest alert when it fires again within the flap window,
   and in the same round trip reads which fingerprints have an open alert (they stay in
   its group) and the latest live group of every group key of the batch.
3. UPSERT: ``INSERT .. ON CONFLICT`` on the unique partial index (one open alert per
   fingerprint) creates alerts or counts duplicates, writes the ``created`` events, and
   updates each group once: members, open count, highest severity, last seen, raw signal
   count and the end of the aggregation wait. A new alert gets the pointers to its
   identity's previous alert (``prev_at``, ``prev_service_at``, ``prev_device_at``:
   core/alerts/recurrence.py) from the latest alert LOOKUP read. Group rows are locked in
   id order after the alert rows (fingerprint order), so concurrent batches queue instead
   of deadlocking.
   They are found by ``id = any(array(...))``, an index probe per group: the planner
   takes ``jsonb_to_recordset`` for 100 rows, and joined as a set it read the whole
   ``alert_groups`` table twice per batch (2 × 0.35 ms at 1,860 groups, growing with them).
"""
from __future__ import annotations

from core.grouping.store import LATEST_SQL
from core.lifecycle import OPEN_SQL
from core.prepared import Prepared

RESOLVE_SQL = f"""
with tgt as (
    select a.id, a.fingerprint, a.state from alerts a
    where a.fingerprint = any(cast(:fps as text[])) and a.state in {OPEN_SQL}
    order by a.id for update
), upd as (
    update alerts a set state = 'resolved', resolved_at = greatest(a.updated_at, :now),
           updated_at = greatest(a.updated_at, :now), silenced_until = null,
           state_before_silence = null, last_seen_at = greatest(a.last_seen_at, :now)
    from tgt where a.id = tgt.id
    returning a.id, a.fingerprint, tgt.state as from_state, a.updated_at as at
), ev as (
    insert into alert_events (alert_id, at, actor, source, kind, from_state, to_state, note, metadata)
    select id, at, :actor, :source, 'transition', from_state, 'resolved',
           'resolved by the source', cast(:meta as jsonb) from upd
)
select fingerprint, id from upd
"""

# kind 'reopened' / 'open': key = fingerprint, id = alert id, group_id = its group;
# kind 'group': key = group key, id = group_id = the latest group seen since :group_since;
# kind 'open' / 'latest': key = fingerprint, id = its latest alert (open / settled), with its
# created_at, service and device (an alert created next points at it:
# core/alerts/recurrence.py). The open alert, read anyway, stands for the latest: with one
# open, the upsert counts a duplicate and creates nothing (it is not the latest only when an
# operator reopened an older alert, and then too nothing is created).
# The open alerts of the batch are read once (open_now) and used twice: as the guard
# against reopening beside an open alert, and as the answer. The guard was a correlated
# NOT EXISTS on ``alerts`` before: PostgreSQL planned that anti-join from the
# fingerprint column's statistics, ~7 ms of planning per batch on the 1M-alert bench.
LOOKUP_SQL = f"""
with open_now as (
    select a.fingerprint, a.id, a.group_id, a.created_at, a.service, a.device_id from alerts a
    where a.fingerprint = any(cast(:fps as text[])) and a.state in {OPEN_SQL}
), latest as (
    select (select a.id from alerts a where a.fingerprint = f order by a.id desc limit 1) as id
    from unnest(cast(:fps as text[])) as f
), tgt as (
    select a.id from alerts a join latest on a.id = latest.id
    where a.state = 'resolved' and a.resolved_at > :since
      and a.fingerprint not in (select fingerprint from open_now)
    order by a.id for update of a
), upd as (
    update alerts a set state = 'new', resolved_at = null, closed_at = null, resolution = null,
           reopen_count = a.reopen_count + 1, updated_at = greatest(a.updated_at, :now),
           last_seen_at = greatest(a.last_seen_at, :now)
    from tgt where a.id = tgt.id and a.state = 'resolved'
    returning a.id, a.fingerprint, a.group_id, a.updated_at as at
), ev as (
    insert into alert_events (alert_id, at, actor, source, kind, from_state, to_state, note, metadata)
    select id, at, :actor, :source, 'transition', 'resolved', 'new',
           'fired again within the flap window', cast(:meta as jsonb) from upd
)
select 'reopened' as kind, fingerprint as key, id, group_id,
       null::timestamptz as at, null as service, null as device_id from upd
union all
select 'open', fingerprint, id, group_id, created_at, service, device_id from open_now
union all
select 'group', g.group_key, g.id, g.id, null, null, null from ({LATEST_SQL}) g
union all
select 'latest', a.fingerprint, a.id, null, a.created_at, a.service, a.device_id
from latest join alerts a on a.id = latest.id
where latest.id not in (select id from open_now)
"""

# The previous alert of the fingerprint on the same service / device
# (core/alerts/recurrence.py): the fingerprint's latest alert, which LOOKUP read and
# ``_upsert`` passes as ``prev_*``; a probe only when it was on another service or device.
# (``is not distinct from``, the same as = on these NOT NULL columns, keeps the planner on the
# fingerprint's index: core/alerts/recurrence.py says why.)
PREVIOUS = """(select p.created_at from alerts p
    where p.fingerprint = i.fingerprint and p.{key} is not distinct from i.{key}
    order by p.fingerprint, p.id desc limit 1)"""
UPSERT_SQL = f"""
with input as (
    select * from jsonb_to_recordset(cast(:rows as jsonb)) as x(
        fingerprint text, source text, service text, device_id text, severity text,
        summary text, description text, labels jsonb, annotations jsonb, metadata jsonb,
        n int, tta_s int, ttr_s int, wait_s int, ord int, group_id bigint,
        prev_at timestamptz, prev_service text, prev_device text)
    order by ord
), up as (
    insert into alerts (fingerprint, source, service, device_id, severity, state, summary,
        description, labels, annotations, metadata, duplicate_count, reopen_count, created_at,
        last_seen_at, updated_at, tta_target_s, ttr_target_s, tta_due_at, ttr_due_at, group_id,
        prev_at, prev_service_at, prev_device_at)
    select fingerprint, source, service, device_id, severity, 'new', summary, description,
        labels, annotations, metadata, n, 0, :now, :now, :now, tta_s, ttr_s,
        :now + make_interval(secs => tta_s), :now + make_interval(secs => ttr_s), group_id,
        prev_at,
        case when prev_service is null or prev_service = i.service then prev_at
             else {PREVIOUS.format(key="service")} end,
        case when prev_device is null or prev_device = i.device_id then prev_at
             else {PREVIOUS.format(key="device_id")} end
    from input i
    on conflict (fingerprint) where state in {OPEN_SQL} do update
        set duplicate_count = alerts.duplicate_count + excluded.duplicate_count,
            last_seen_at = greatest(alerts.last_seen_at, excluded.last_seen_at),
            annotations = excluded.annotations
    returning id, fingerprint, severity, severity_rank, (xmax = 0) as inserted
), ev as (
    insert into alert_events (alert_id, at, actor, source, kind, from_state, to_state, note, metadata)
    select id, :now, :actor, :source, 'created', null, 'new', null,
           jsonb_build_object('fingerprint', fingerprint, 'severity', severity)
    from up where inserted
), per_group as (
    select i.group_id as id, sum(i.n) as raw, min(i.wait_s) as wait_s,
           count(*) filter (where u.inserted) as members,
           coalesce(min(u.severity_rank) filter (where u.inserted), 5) as rank
    from input i join up u on u.fingerprint = i.fingerprint
    where i.group_id is not null group by i.group_id
), locked as (
    select g.id from alert_groups g where g.id = any(array(select id from per_group))
    order by g.id for no key update
), grp as (
    update alert_groups g set
        last_seen_at = greatest(g.last_seen_at, :now),
        raw_events = g.raw_events + p.raw,
        member_count = g.member_count + p.members,
        open_count = g.open_count + p.members,
        max_severity_rank = least(g.max_severity_rank, p.rank),
        status = case when p.members > 0 then 'active' else g.status end,
        resolved_at = case when p.members > 0 then null else g.resolved_at end,
        notify_at = case when g.raw_events = 0  -- created by this batch
                         then :now + make_interval(secs => p.wait_s)
                         else least(g.notify_at, :now + make_interval(secs => p.wait_s)) end
    from per_group p where g.id = any(array(select id from locked)) and p.id = g.id
)
select fingerprint, id, inserted from up
"""

TS, TEXTS = "timestamptz", "text[]"
RESOLVE = Prepared("alertdesk_ingest_resolve", RESOLVE_SQL, {
    "fps": TEXTS, "now": TS, "actor": "text", "source": "text", "meta": "text"})
LOOKUP = Prepared("alertdesk_ingest_lookup", LOOKUP_SQL, {
    "fps": TEXTS, "keys": TEXTS, "now": TS, "since": TS, "group_since": TS, "actor": "text",
    "source": "text", "meta": "text"})
UPSERT = Prepared("alertdesk_ingest_upsert", UPSERT_SQL, {
    "rows": "text", "now": TS, "actor": "text", "source": "text"})
