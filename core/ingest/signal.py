"""What a source reports, pure: one alert firing (create or count) or resolved.

Sources (core/ingest/sources/) turn their payloads into ``Signal``s; the batch
(core/ingest/batch.py) applies them.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.alerts.model import AlertIn

FIRING, RESOLVED = "firing", "resolved"


@dataclass(frozen=True)
class Signal:
    """One alert as a source reports it: firing (create or count) or resolved."""

    alert: AlertIn
    status: str = FIRING
