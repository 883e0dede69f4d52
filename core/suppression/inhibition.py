"""Inhibition rules, Alertmanager-style, as data. Pure: no database here.

A rule says: while an open *source* alert matches ``source_match``, open *target* alerts
that match ``target_match`` and carry the same values as the source for every label in
``equal`` are suppressed — stored, visible, marked ``inhibited_by`` (with the rule), and
never notified. Matchers and the labels they see are core.suppression.silences'. As in Alertmanager a
label missing on both sides counts as equal ("" = ""), so a rule whose ``equal`` labels
may be missing should require them on the source side (``alertname!=""``); the default
rules (migration 0004) do.

Which source, and no cycles:
- an alert never inhibits itself;
- an alert that is itself a target of some rule right now does not inhibit others: only
  root causes suppress. Two alerts that would suppress each other both stay loud (fail
  open) — Alertmanager's two-sided-match rule, generalised across rules;
- of the eligible sources the oldest wins (created_at, then id), then the lowest rule id.
A target is released as soon as no eligible source remains: the source resolved, or the
rule was disabled or edited.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import FieldError
from core.suppression.silences import FIELDS as LABEL_FIELDS
from core.suppression.silences import Matcher, compile_sql, label_sql, matches, parse_matchers

MAX_NAME = 100
MAX_EQUAL = 20
FIELDS = ("name", "source_match", "target_match", "equal", "enabled")
READ_ONLY = ("id", "created_by", "created_at", "updated_by", "updated_at")


@dataclass(frozen=True)
class InhibitRule:
    name: str
    source_match: tuple[Matcher, ...]
    target_match: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()
    enabled: bool = True
    id: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "source_match": [m.as_json() for m in self.source_match],
                "target_match": [m.as_json() for m in self.target_match],
                "equal": list(self.equal), "enabled": self.enabled}


def inhibits(source_labels: Mapping[str, str], target_labels: Mapping[str, str],
             rule: InhibitRule) -> bool:
    """Would this source suppress this target under ``rule`` (ignoring eligibility)?"""
    return (rule.enabled and matches(source_labels, rule.source_match)
            and matches(target_labels, rule.target_match)
            and all(source_labels.get(n, "") == target_labels.get(n, "") for n in rule.equal))


def resolve(alerts: Sequence[tuple[int, Mapping[str, str]]], rules: Sequence[InhibitRule]
            ) -> dict[int, tuple[int, int]]:
    """Open alerts (id, label set), oldest first -> {target id: (source id, rule id)}.
    The reference for the set-based statement in core.suppression.inhibition_store."""
    ordered = sorted((r for r in rules if r.enabled), key=lambda r: r.id)
    pairs = [(t, s, r.id) for s, s_labels in alerts for r in ordered
             for t, t_labels in alerts if s != t and inhibits(s_labels, t_labels, r)]
    targets = {t for t, _, _ in pairs}
    out: dict[int, tuple[int, int]] = {}
    for t, s, rule_id in pairs:  # sources come oldest first, rules by id
        if s not in targets and t not in out:
            out[t] = (s, rule_id)
    return out


def parse_rule(body: Mapping[str, Any], current: InhibitRule | None = None) -> InhibitRule:
    """A rule from a request body, or FieldError naming the field. With ``current`` (an
    edit) missing fields keep their values; read-only fields of a fetched rule are ignored."""
    unknown = set(body) - set(FIELDS) - set(READ_ONLY)
    if unknown:
        raise FieldError(sorted(unknown)[0], f"is not an inhibition rule field ({', '.join(FIELDS)})")
    base = current.as_json() if current else {}
    merged = {**base, **{k: body[k] for k in FIELDS if k in body}}
    name = merged.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FieldError("name", "is required")
    if len(name.strip()) > MAX_NAME:
        raise FieldError("name", f"is longer than {MAX_NAME} characters")
    enabled = merged.get("enabled", True)
    if not isinstance(enabled, bool):
        raise FieldError("enabled", "must be true or false")
    return InhibitRule(name.strip(), parse_matchers(merged.get("source_match"), "source_match"),
                       parse_matchers(merged.get("target_match"), "target_match"),
                       _equal(merged.get("equal", [])), enabled, current.id if current else 0)


def _equal(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise FieldError("equal", "must be a list of label names")
    if len(value) > MAX_EQUAL:
        raise FieldError("equal", f"at most {MAX_EQUAL} labels")
    names: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip() or len(item.strip()) > MAX_NAME:
            raise FieldError(f"equal[{i}]", "must be a label name")
        if item.strip() in names:
            raise FieldError(f"equal[{i}]", f"{item.strip()!r} is listed twice")
        names.append(item.strip())
    return tuple(names)


@dataclass(frozen=True)
class CompiledRule:
    """A rule as SQL over a source row ``s`` and a target row ``t`` of ``alerts`` (or of a
    query with the same columns): the two predicates and the equal-labels join condition."""

    rule_id: int
    source_sql: str
    target_sql: str
    equal_sql: str
    params: dict[str, Any]


def label_names(rules: Sequence[InhibitRule]) -> list[str]:
    """The labels (not alert fields) the rules read, so a query extracts each once."""
    names = {m.name for r in rules for m in (*r.source_match, *r.target_match)}
    return sorted((names | {n for r in rules for n in r.equal}) - set(LABEL_FIELDS))


def compile_rule(rule: InhibitRule, key: str, columns: Mapping[str, str] | None = None
                 ) -> CompiledRule:
    """Bound parameters are prefixed with ``key`` so many rules share one statement;
    ``columns``: labels the statement already extracted (see ``label_names``)."""
    source_sql, params = compile_sql(rule.source_match, f"{key}s", "s", columns)
    target_sql, target_params = compile_sql(rule.target_match, f"{key}t", "t", columns)
    params.update(target_params)
    equal: list[str] = []
    for i, name in enumerate(rule.equal):
        source_label, names = label_sql(name, f"{key}e{i}", "s", columns)
        target_label, _ = label_sql(name, f"{key}e{i}", "t", columns)
        equal.append(f"{source_label} = {target_label}")
        params.update(names)
    return CompiledRule(rule.id, source_sql, target_sql, " and ".join(equal) or "true", params)
