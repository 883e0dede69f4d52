"""Severity → default channels, for escalation steps whose targets name people rather
than channels. A pure table (change it here, the unit test pins it):

- critical: SMS + Slack + PagerDuty (wake someone up, tell the room, open an incident);
- high: Slack + email (urgent but not a page: high escalates through its tiers instead);
- medium: Slack + email;
- low, info: Slack only.
"""
from __future__ import annotations

DEFAULT_CHANNELS: dict[str, tuple[str, ...]] = {
    "critical": ("sms", "slack", "pagerduty"),
    "high": ("slack", "email"),
    "medium": ("slack", "email"),
    "low": ("slack",),
    "info": ("slack",),
}


def default_channels(severity: str) -> tuple[str, ...]:
    """The channels an alert of ``severity`` goes out on; unknown severities get Slack."""
    return DEFAULT_CHANNELS.get(severity, ("slack",))
