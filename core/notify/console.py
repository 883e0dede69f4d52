"""Console channel: one log line per message (demos, development, a last resort)."""
from __future__ import annotations

import logging

from core.notify.base import Notification, NotifyConfig

log = logging.getLogger("alertdesk.notify.console")


def send(n: Notification, config: NotifyConfig) -> str:
    """Log "[SEVERITY] summary link (+N more)"; the provider id is ``console:<id>``."""
    more = f" (+{len(n.bundled)} more)" if n.bundled else ""
    log.warning("NOTIFY #%s [%s] %s %s%s", n.id, str(n.payload.get("severity", "")).upper(),
                n.payload.get("summary", ""), n.payload.get("link", ""), more)
    return f"console:{n.id}"
