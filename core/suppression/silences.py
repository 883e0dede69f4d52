"""Label matchers and silences (maintenance windows). Pure: no database here.

A matcher is ``{"name", "op", "value"}``, as in Alertmanager: ``=`` equal, ``!=`` not
equal, ``=~`` matches the regex, ``!~`` does not (Alertmanager's JSON form, ``isRegex`` and
``isEqual``, is read as the same and kept in this one). Regexes are anchored at both ends
(``^(?:value)$``) and ``.`` matches any character. A missing label reads as "", so
``team=""`` matches alerts without a team and ``team!=""`` the ones with one.

The labels a matcher sees are the alert's labels plus its fields ``service``,
``device_id``, ``severity`` (normalised: critical, high, medium, low, info — an
Alertmanager ``warning`` is ``medium``) and ``source``; a field overrides a label of the
same name.

A silence mutes matching alerts from ``starts_at`` (inclusive) to ``ends_at`` (exclusive)
unless expired by hand: *pending* before, *active* between, *expired* after. The same
matchers compile to a SQL predicate (``compile_sql``) so the database applies them in one
set-based statement; ``matches`` is the Python twin, and tests hold the two to each other.
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from core.clock import ensure_utc
from core.errors import FieldError

OPS = ("=", "!=", "=~", "!~")
SQL_OPS = {"=": "=", "!=": "<>", "=~": "~", "!~": "!~"}
FIELDS = ("service", "device_id", "severity", "source")  # alert columns seen as labels
MAX_MATCHERS = 50
MAX_NAME = 100
MAX_VALUE = 1000
MAX_COMMENT = 2000
PENDING, ACTIVE, EXPIRED = "pending", "active", "expired"
STATES = (PENDING, ACTIVE, EXPIRED)
# Escapes valid in both Python and PostgreSQL regexes but with different meanings there
# (\b is a word boundary in Python, a backspace in PostgreSQL).
AMBIGUOUS_ESCAPES = frozenset("bB")


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    @property
    def pattern(self) -> str:
        """The anchored regex as both Python and PostgreSQL run it."""
        return f"^(?:{self.value})$"

    def test(self, labels: Mapping[str, str]) -> bool:
        """Does the label set satisfy this matcher (missing label = "")?"""
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = _regex(self.value).fullmatch(actual) is not None
        return hit if self.op == "=~" else not hit

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "op": self.op, "value": self.value}


def matches(labels: Mapping[str, str], matchers: Sequence[Matcher]) -> bool:
    """All matchers hold (an empty list matches everything)."""
    return all(m.test(labels) for m in matchers)


def label_set(labels: Mapping[str, str], service: str, device_id: str, severity: str,
              source: str) -> dict[str, str]:
    """What matchers see: the labels, overridden by the alert's own fields."""
    return {**labels, "service": service, "device_id": device_id, "severity": severity,
            "source": source}


@lru_cache(maxsize=512)
def _regex(value: str) -> re.Pattern[str]:
    return re.compile(f"(?:{value})", re.DOTALL)


def check_regex(value: str, field: str) -> None:
    """FieldError unless ``value`` is a regex both Python and PostgreSQL read alike
    (PostgreSQL itself is asked too, by the store, before anything is saved)."""
    if _escapes(value) & AMBIGUOUS_ESCAPES:
        raise FieldError(field, "word boundaries (\\b, \\B) are not supported in matchers")
    if "{," in _unescaped(value):  # Python reads {,n} as {0,n}, PostgreSQL as literal text
        raise FieldError(field, "write an upper bound as {0,n}, not {,n}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            re.compile(f"(?:{value})", re.DOTALL)
    except (re.error, FutureWarning, DeprecationWarning) as err:
        raise FieldError(field, f"is not a valid regular expression: {err}") from None


def _unescaped(value: str) -> str:
    """``value`` without its backslash escapes (each escape pair dropped)."""
    return re.sub(r"\\.", "", value, flags=re.DOTALL)


def _escapes(value: str) -> set[str]:
    """The characters that follow a backslash escape in ``value``."""
    return set(re.findall(r"\\(.)", value, flags=re.DOTALL))


# Alertmanager's own matcher form (its API and `amtool silence query -o json`): isRegex,
# isEqual (default true) -> op, so its silences paste in as they are.
AM_OPS = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}


def _alertmanager_op(item: Mapping[str, Any], field: str) -> str:
    if "op" in item:
        raise FieldError(f"{field}.op", "give either op or Alertmanager's isRegex / isEqual")
    flags = []
    for key, default in (("isRegex", False), ("isEqual", True)):
        flag = item.get(key, default)
        if not isinstance(flag, bool):
            raise FieldError(f"{field}.{key}", "must be true or false")
        flags.append(flag)
    return AM_OPS[(flags[0], flags[1])]


def parse_matcher(item: object, field: str) -> Matcher:
    """``{"name", "op" (default "="), "value"}`` -> Matcher, or FieldError naming the part;
    Alertmanager's ``{"name", "value", "isRegex", "isEqual"}`` is read as the same."""
    if not isinstance(item, Mapping):
        raise FieldError(field, 'must be an object {"name", "op", "value"}')
    keys = set(item)
    unknown = keys - {"name", "op", "value", "isRegex", "isEqual"}
    if unknown:
        raise FieldError(f"{field}.{sorted(unknown)[0]}", "is not a matcher field")
    op = (_alertmanager_op(item, field) if {"isRegex", "isEqual"} & keys
          else item.get("op", "="))
    name, value = item.get("name"), item.get("value")
    if not isinstance(name, str) or not name.strip():
        raise FieldError(f"{field}.name", "is required (a label name)")
    if len(name.strip()) > MAX_NAME:
        raise FieldError(f"{field}.name", f"is longer than {MAX_NAME} characters")
    if op not in OPS:
        raise FieldError(f"{field}.op", f"must be one of {', '.join(OPS)}")
    if not isinstance(value, str):
        raise FieldError(f"{field}.value", "is required (a string; \"\" means the label is missing)")
    if len(value) > MAX_VALUE:
        raise FieldError(f"{field}.value", f"is longer than {MAX_VALUE} characters")
    if op in ("=~", "!~"):
        check_regex(value, f"{field}.value")
    return Matcher(name.strip(), str(op), value)


def parse_matchers(value: object, field: str = "matchers") -> tuple[Matcher, ...]:
    """A non-empty list of matcher objects; ``{"label": "value", ..}`` is accepted as a
    shorthand for equality matchers (Alertmanager's ``source_match`` form)."""
    if isinstance(value, Mapping):
        value = [{"name": k, "op": "=", "value": v} for k, v in value.items()]
    if not isinstance(value, list) or not value:
        raise FieldError(field, 'must be a non-empty list of {"name", "op", "value"}')
    if len(value) > MAX_MATCHERS:
        raise FieldError(field, f"at most {MAX_MATCHERS} matchers")
    return tuple(parse_matcher(item, f"{field}[{i}]") for i, item in enumerate(value))


@dataclass(frozen=True)
class SilenceIn:
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    comment: str


def silence_matchers(value: object) -> tuple[Matcher, ...]:
    """A silence's matchers, or FieldError: at least one must need a value, so a silence
    can never mute every alert (Alertmanager's rule)."""
    matchers = parse_matchers(value)
    if all(m.test({}) for m in matchers):
        raise FieldError("matchers", "every matcher also matches alerts without that label; "
                         "add one that needs a value, e.g. service=\"billing\"")
    return matchers


def parse_silence(body: Mapping[str, Any], now: datetime) -> SilenceIn:
    """A new silence, or FieldError. ``starts_at`` defaults to (and is clamped to) ``now``;
    ``ends_at`` is required and after it; the matchers as ``silence_matchers`` wants them."""
    matchers = silence_matchers(body.get("matchers"))
    starts_at = _instant(body.get("starts_at"), "starts_at") or now
    starts_at = max(starts_at, now)
    ends_at = _instant(body.get("ends_at"), "ends_at")
    if ends_at is None:
        raise FieldError("ends_at", "is required")
    if ends_at <= starts_at:
        raise FieldError("ends_at", "must be after starts_at (and in the future)")
    comment = body.get("comment")
    if not isinstance(comment, str) or not comment.strip():
        raise FieldError("comment", "is required: say why (change ticket, maintenance)")
    if len(comment) > MAX_COMMENT:
        raise FieldError("comment", f"is longer than {MAX_COMMENT} characters")
    return SilenceIn(matchers, starts_at, ends_at, comment.strip())


def _instant(value: object, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise FieldError(field, "must be an ISO-8601 time with an offset")
    if value.tzinfo is None:
        raise FieldError(field, "must include a time zone offset, e.g. 2026-03-02T09:00:00Z")
    return ensure_utc(value, field)


def silence_state(starts_at: datetime, ends_at: datetime, expired_at: datetime | None,
                  now: datetime) -> str:
    """pending | active | expired at ``now``."""
    if expired_at is not None or ends_at <= now:
        return EXPIRED
    return PENDING if starts_at > now else ACTIVE


@dataclass(frozen=True)
class Silence:
    id: int
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    expired_at: datetime | None = None

    def state(self, now: datetime) -> str:
        return silence_state(self.starts_at, self.ends_at, self.expired_at, now)

    def is_active(self, now: datetime) -> bool:
        return self.state(now) == ACTIVE

    def mutes(self, labels: Mapping[str, str], now: datetime) -> bool:
        """Active at ``now`` and every matcher holds for the label set."""
        return self.is_active(now) and matches(labels, self.matchers)


def label_sql(name: str, param: str, alias: str = "a",
              columns: Mapping[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """SQL for one label's value on an ``alerts`` row (fields are columns; a missing
    label is ''). Names are bound, never spliced, unless they are one of FIELDS;
    ``columns`` maps label names a query already extracted to its column names."""
    if name in FIELDS:
        return f"{alias}.{name}", {}
    if columns and name in columns:
        return f"{alias}.{columns[name]}", {}
    return f"coalesce({alias}.labels ->> :{param}, '')", {param: name}


def compile_sql(matchers: Sequence[Matcher], key: str, alias: str = "a",
                columns: Mapping[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """The matchers as one SQL predicate with bound parameters ``{key}_{i}n|v``, e.g.
    ``(coalesce(a.labels ->> :s3_0n, '') = :s3_0v)``; an empty list is ``true``."""
    parts: list[str] = []
    params: dict[str, Any] = {}
    for i, m in enumerate(matchers):
        lhs, names = label_sql(m.name, f"{key}_{i}n", alias, columns)
        params.update(names)
        params[f"{key}_{i}v"] = m.pattern if m.op in ("=~", "!~") else m.value
        parts.append(f"({lhs} {SQL_OPS[m.op]} :{key}_{i}v)")
    return (" and ".join(parts) or "true"), params
