"""Grouping rules, pure: which group an alert belongs to and when a group may notify.

A group gathers the alerts that share the ``group_by`` values (default service +
alertname) and arrive with gaps shorter than the window (default 5 min) — a session
window: a longer quiet gap starts a new group, so a stale group with one forgotten alert
does not swallow tomorrow's incident. A group waits before it notifies, by its highest
severity (critical 0 s, high 15 s, medium 30 s, low/info 60 s), so a burst becomes one
notification. Settings are data (``settings`` row ``grouping``), validated here.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from core import severity as sev
from core.alerts.model import AlertIn
from core.errors import FieldError

FIELDS = ("service", "device_id", "source", "severity")  # alert fields usable in group_by
DEFAULT_WAIT_S = {"critical": 0, "high": 15, "medium": 30, "low": 60, "info": 60}
MAX_WINDOW_S = 24 * 3600


@dataclass(frozen=True)
class GroupingConfig:
    group_by: tuple[str, ...] = ("service", "alertname")
    window_s: int = 300
    wait_s: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_WAIT_S))

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_s)

    def wait_for(self, severity: str) -> int:
        return self.wait_s.get(severity, DEFAULT_WAIT_S[severity])

    def as_json(self) -> dict[str, Any]:
        return {"group_by": list(self.group_by), "window_s": self.window_s, "wait_s": self.wait_s}


def parse_config(value: Any) -> GroupingConfig:
    """Validate a grouping setting (FieldError names the part that is wrong)."""
    if not isinstance(value, dict):
        raise FieldError("grouping", "must be an object")
    group_by = value.get("group_by", ["service", "alertname"])
    if (not isinstance(group_by, list) or not group_by
            or not all(isinstance(g, str) and g.strip() for g in group_by)):
        raise FieldError("group_by", "must be a non-empty list of label or field names")
    window = value.get("window_s", 300)
    if isinstance(window, bool) or not isinstance(window, int) or not 0 < window <= MAX_WINDOW_S:
        raise FieldError("window_s", f"must be a whole number of seconds, 1 to {MAX_WINDOW_S}")
    waits = value.get("wait_s", DEFAULT_WAIT_S)
    if not isinstance(waits, dict):
        raise FieldError("wait_s", "must be an object of severity -> seconds")
    clean: dict[str, int] = dict(DEFAULT_WAIT_S)
    for name, secs in waits.items():
        key = sev.normalize(name, f"wait_s.{name}")
        if isinstance(secs, bool) or not isinstance(secs, int) or not 0 <= secs <= 3600:
            raise FieldError(f"wait_s.{name}", "must be 0 to 3600 seconds")
        clean[key] = secs
    return GroupingConfig(tuple(g.strip() for g in group_by), window, clean)


def config_from_setting(value: Any) -> GroupingConfig:
    """The stored ``grouping`` setting (None when never set: the defaults)."""
    return parse_config(value) if value is not None else GroupingConfig()


def group_values(alert: AlertIn, group_by: tuple[str, ...]) -> dict[str, str]:
    """The values an alert is grouped by: alert fields by name, else labels; a missing
    alertname falls back to the summary, so unlabelled alerts still group sensibly."""
    out: dict[str, str] = {}
    for name in group_by:
        if name in FIELDS:
            out[name] = str(getattr(alert, name))
        elif name == "alertname":
            out[name] = alert.labels.get("alertname") or alert.labels.get("event") or alert.summary
        else:
            out[name] = alert.labels.get(name, "")
    return out


def group_key(values: dict[str, str]) -> str:
    """SHA-256 of the sorted name=value pairs joined by US (0x1f); the SQL backfill in
    core/grouping/store.py computes the same key."""
    text = "\x1f".join(f"{k}={v}" for k, v in sorted(values.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def keys_for(firing: list[tuple[AlertIn, int]], config: GroupingConfig
             ) -> dict[str, tuple[str, dict[str, str]]]:
    """fingerprint -> (group key, group_by values) for a batch's firing alerts."""
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for alert, _ in firing:
        values = group_values(alert, config.group_by)
        out[alert.dedup_key()] = (group_key(values), values)
    return out
