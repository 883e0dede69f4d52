"""The five severities, their order, and the mappings from sources' vocabularies."""
from __future__ import annotations

from core.errors import FieldError

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
RANK = {name: i + 1 for i, name in enumerate(SEVERITIES)}

# Alertmanager `severity` label and common NOC levels (DESIGN.md).
ALIASES = {
    "page": "critical", "error": "high", "major": "high", "warning": "medium",
    "minor": "low", "none": "info", "l1": "critical", "l2": "medium", "l3": "info",
}


def normalize(value: object, field: str = "severity") -> str:
    """Return one of SEVERITIES or raise FieldError naming ``field``."""
    if not isinstance(value, str) or not value.strip():
        raise FieldError(field, f"must be one of {', '.join(SEVERITIES)}")
    key = value.strip().lower()
    key = ALIASES.get(key, key)
    if key not in RANK:
        raise FieldError(field, f"unknown severity {value!r}; use one of {', '.join(SEVERITIES)}")
    return key
