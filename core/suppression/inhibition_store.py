"""Inhibition rules in the database: list, create and edit (managers), and
``apply_inhibitions`` — the set-based statement that keeps every open alert's
``inhibited_by`` / ``inhibit_rule_id`` mark in line with the enabled rules and the open
alerts, appending an 'inhibit_mark' event whenever a mark changes (the semantics are
core.suppression.inhibition's; its ``resolve`` is the pure reference this statement mirrors).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import audit
from core.actor import SYSTEM, WORKER, Actor
from core.errors import Conflict, Forbidden, NotFound
from core.lifecycle import OPEN_SQL
from core.suppression.inhibition import InhibitRule, compile_rule, label_names, parse_rule
from core.suppression.silences import compile_sql, parse_matchers
from core.suppression.silences_store import check_regexes_in_db
from core.tables import inhibit_rules


def _rule(row: Any) -> InhibitRule:
    return InhibitRule(row.name, parse_matchers(row.source_match, "source_match"),
                       parse_matchers(row.target_match, "target_match"), tuple(row.equal),
                       bool(row.enabled), int(row.id))


def load_rules(session: Session, enabled_only: bool = False) -> list[InhibitRule]:
    query = sa.select(inhibit_rules).order_by(inhibit_rules.c.id)
    if enabled_only:
        query = query.where(inhibit_rules.c.enabled)
    return [_rule(r) for r in session.execute(query)]


LIST_SQL = f"""
select r.*, (select count(*) from alerts a where a.inhibit_rule_id = r.id
             and a.inhibited_by is not null and a.state in {OPEN_SQL}) as alerts
from inhibit_rules r where {{where}} order by r.id
"""


def list_rules(session: Session) -> list[dict[str, Any]]:
    """Every rule, with how many open alerts it suppresses now."""
    return [dict(r) for r in session.execute(sa.text(LIST_SQL.format(where="true"))).mappings()]


def get_rule(session: Session, rule_id: int) -> dict[str, Any]:
    row = session.execute(sa.text(LIST_SQL.format(where="r.id = :id")),
                          {"id": rule_id}).mappings().one_or_none()
    if row is None:
        raise NotFound(f"inhibition rule {rule_id} does not exist")
    return dict(row)


def _check(session: Session, rule: InhibitRule, actor: Actor) -> None:
    if not actor.can("manager"):
        raise Forbidden(f"{actor.name} may not edit inhibition rules (manager role needed)")
    check_regexes_in_db(session, rule.source_match, "source_match")
    check_regexes_in_db(session, rule.target_match, "target_match")
    taken = session.scalar(sa.select(inhibit_rules.c.id).where(
        inhibit_rules.c.name == rule.name, inhibit_rules.c.id != rule.id))
    if taken is not None:
        raise Conflict(f"an inhibition rule named {rule.name!r} already exists (id {taken})")


def create_rule(session: Session, body: Mapping[str, Any], actor: Actor,
                now: datetime) -> dict[str, Any]:
    """Store a new rule and apply it to the open alerts at once."""
    if not actor.can("manager"):
        raise Forbidden(f"{actor.name} may not edit inhibition rules (manager role needed)")
    rule = parse_rule(body)
    _check(session, rule, actor)
    rule_id = session.scalar(sa.insert(inhibit_rules).values(
        **rule.as_json(), created_by=actor.name, created_at=now, updated_by=actor.name,
        updated_at=now).returning(inhibit_rules.c.id))
    apply_inhibitions(session, now, actor=actor)
    after = get_rule(session, int(rule_id or 0))
    audit.record(session, actor, "inhibition_rule", rule_id, "create", None, after, now)
    return after


def update_rule(session: Session, rule_id: int, body: Mapping[str, Any], actor: Actor,
                now: datetime) -> dict[str, Any]:
    """Edit (fields not sent keep their values), enable or disable a rule; the marks follow
    in the same transaction."""
    if not actor.can("manager"):
        raise Forbidden(f"{actor.name} may not edit inhibition rules (manager role needed)")
    row = session.execute(sa.select(inhibit_rules).where(inhibit_rules.c.id == rule_id)
                          .with_for_update()).one_or_none()
    if row is None:
        raise NotFound(f"inhibition rule {rule_id} does not exist")
    rule = parse_rule(body, _rule(row))
    _check(session, rule, actor)
    before = get_rule(session, rule_id)
    session.execute(sa.update(inhibit_rules).where(inhibit_rules.c.id == rule_id).values(
        **rule.as_json(), updated_by=actor.name, updated_at=now))
    apply_inhibitions(session, now, actor=actor)
    after = get_rule(session, rule_id)
    audit.record(session, actor, "inhibition_rule", rule_id, "update", before, after, now)
    return after


APPLY_SQL = f"""
with al as materialized (  -- each label the rules read is extracted once per alert
    select a.id, a.state, a.created_at, a.service, a.device_id, a.severity, a.source,
           a.inhibited_by, a.inhibit_rule_id {{labels}}
    from alerts a where a.state in {OPEN_SQL} {{only}}
), pairs as (  -- (target, source, rule): one hash join per rule on its equal labels
    {{pairs}}
), eff as (  -- only a source that is nobody's target suppresses; the oldest one wins
    select distinct on (p.target) p.target, p.source, p.rule_id from pairs p
    where not exists (select 1 from pairs q where q.target = p.source)
    order by p.target, p.created_at, p.source, p.rule_id
), changed as (
    select a.id, a.inhibited_by as old_source, a.inhibit_rule_id as old_rule,
           e.source as new_source, e.rule_id as new_rule
    from al a left join eff e on e.target = a.id
    where (a.inhibited_by is distinct from e.source or a.inhibit_rule_id is distinct from e.rule_id)
      {{scope}}
), locked as (
    select a.id from alerts a join changed c on c.id = a.id order by a.id
    for no key update of a skip locked  -- FK checks (key share) of others never wait on it
), upd as (
    update alerts a set inhibited_by = c.new_source, inhibit_rule_id = c.new_rule,
           updated_at = greatest(a.updated_at, :now)
    from changed c join locked l on l.id = c.id
    where a.id = c.id and a.state in {OPEN_SQL} and a.inhibited_by is not distinct from c.old_source
      and a.inhibit_rule_id is not distinct from c.old_rule
    returning a.id, a.state, c.old_source, c.old_rule, c.new_source, c.new_rule
), ev as (
    insert into alert_events (alert_id, at, actor, source, kind, from_state, to_state, note, metadata)
    select u.id, :now, :actor, :source, 'inhibit_mark', u.state, u.state,
           case when u.new_source is not null then
               format('inhibited by alert #%s (%s) under rule %s', u.new_source, ns.summary, nr.name)
           else format('released from alert #%s: %s', u.old_source,
                       case when os.state not in {OPEN_SQL} then format('it is %s', os.state)
                            when not orl.enabled then format('rule %s is disabled', orl.name)
                            else format('rule %s no longer applies', orl.name) end) end,
           jsonb_build_object('action', case when u.new_source is null then 'release' else 'mark' end,
                              'inhibited_by', u.new_source, 'rule_id', u.new_rule, 'rule', nr.name,
                              'previous_inhibited_by', u.old_source, 'previous_rule_id', u.old_rule)
    from upd u left join alerts ns on ns.id = u.new_source left join inhibit_rules nr on nr.id = u.new_rule
         left join alerts os on os.id = u.old_source left join inhibit_rules orl on orl.id = u.old_rule
)
select count(*) from upd
"""
NO_PAIRS = ("select null::bigint as target, null::bigint as source, "
            "null::timestamptz as created_at, null::bigint as rule_id where false")


def apply_inhibitions(session: Session, now: datetime, alert_ids: Sequence[int] | None = None,
                      actor: Actor = SYSTEM, targets_only: bool = False) -> int:
    """Bring the inhibition marks in line with the enabled rules and the open alerts, in
    one statement (the rules compiled into its predicates); returns how many changed.

    ``alert_ids`` = the alerts that just appeared, reopened or resolved. When none of them
    matches a rule's source side (and none suppresses anything), only their own marks can
    change, so only they are evaluated as targets; otherwise every open alert is, because
    a new or resolved source changes marks outside the batch. Rows another transaction
    holds are skipped (the next worker tick catches up)."""
    rules = load_rules(session, enabled_only=True)
    ids = None if alert_ids is None else list(alert_ids)
    if ids is not None and not targets_only and (not ids or _touches_sources(session, rules, ids)):
        ids = None if ids else []
    if ids == []:
        return 0
    sql, params = _statement(rules, scoped=ids is not None)
    params.update(now=now, actor=actor.name, source=actor.source, ids=ids)
    return int(session.scalar(sa.text(sql), params) or 0)


def _touches_sources(session: Session, rules: Sequence[InhibitRule], ids: list[int]) -> bool:
    """Does any of these alerts match a source side, or suppress an alert right now?"""
    preds: list[str] = []
    params: dict[str, Any] = {}
    for rule in rules:
        sql, more = compile_sql(rule.source_match, f"r{rule.id}", "a")
        preds.append(f"({sql})")
        params.update(more)
    return bool(session.scalar(sa.text(f"""
        select exists (select 1 from alerts a where a.id = any(cast(:ids as bigint[]))
                       and ({' or '.join(preds) or 'false'}))
            or exists (select 1 from alerts x where x.inhibited_by = any(cast(:ids as bigint[])))
    """), {**params, "ids": ids}))


def _statement(rules: Sequence[InhibitRule], scoped: bool) -> tuple[str, dict[str, Any]]:
    """APPLY_SQL with one pairs branch per rule. Scoped, it reads only the batch and the
    alerts that match a source side: every possible source, and every alert whose being a
    target could disqualify a source, so the batch's marks come out exactly as in full."""
    names = label_names(rules)
    columns = {name: f"l{i}" for i, name in enumerate(names)}
    params: dict[str, Any] = {f"ln{i}": name for i, name in enumerate(names)}
    only: list[str] = []
    branches: list[str] = []
    for rule in rules:
        c = compile_rule(rule, f"r{rule.id}", columns)
        params.update(c.params, **{f"r{rule.id}": rule.id})
        branches.append(
            f"select t.id as target, s.id as source, s.created_at, cast(:r{rule.id} as bigint) "
            f"as rule_id from al s join al t on {c.equal_sql} and t.id <> s.id "
            f"where ({c.source_sql}) and ({c.target_sql})")
        source_sql, source_params = compile_sql(rule.source_match, f"q{rule.id}", "a")
        only.append(f"({source_sql})")
        params.update(source_params)
    ids = "a.id = any(cast(:ids as bigint[]))"
    sql = APPLY_SQL.format(
        pairs="\n    union all ".join(branches) or NO_PAIRS, labels="".join(
            f", coalesce(a.labels ->> :ln{i}, '') as l{i}" for i in range(len(names))),
        only=f"and ({' or '.join([ids, *only])})" if scoped else "",
        scope=f"and {ids}" if scoped else "")
    return sql, params



def inhibitions_tick(session: Session, now: datetime) -> int:
    """Worker job: catches what other paths change without re-applying (an operator
    resolving a source, rows skipped because another transaction held them)."""
    return apply_inhibitions(session, now, actor=WORKER)
