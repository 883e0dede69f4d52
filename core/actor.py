"""Who does something, with what role, from where. Every action carries one."""
from __future__ import annotations

from dataclasses import dataclass

ROLES: tuple[str, ...] = ("viewer", "operator", "manager", "admin")
ROLE_RANK = {role: i for i, role in enumerate(ROLES)}
SOURCES = ("ui", "api", "worker", "system", "webhook", "alertmanager",
           "link", "sms", "voice", "slack", "pagerduty")   # the last five: two-way paging


@dataclass(frozen=True)
class Actor:
    name: str          # a username, "key:<api key name>", "worker" or "system"
    role: str
    source: str        # where the action came from: ui, api, worker, system, webhook, ...
    is_human: bool = True

    def can(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


WORKER = Actor("worker", "admin", "worker", is_human=False)
SYSTEM = Actor("system", "admin", "system", is_human=False)
