"""False-positive rate per anomaly model, from resolutions recorded by operators (SQL)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

SQL = """
select metadata->>'model_id' as model_id,
       count(*) as alerts,
       count(*) filter (where resolved_at is not null) as resolved,
       count(*) filter (where resolution = 'false_positive') as false_positives,
       round(100.0 * count(*) filter (where resolution = 'false_positive')
             / nullif(count(*) filter (where resolved_at is not null), 0), 2) as false_positive_pct,
       round(avg((metadata->>'confidence')::numeric), 3) as mean_confidence
from alerts
where source = 'anomaly' and created_at >= :start and created_at < :end
group by 1 order by 1
"""


def model_stats(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per model: alerts, resolved, false positives and their share of the resolved ones."""
    rows = session.execute(sa.text(SQL), {"start": start, "end": end}).mappings().all()
    return [{**r, "false_positive_pct": None if r["false_positive_pct"] is None
             else float(r["false_positive_pct"]),
             "mean_confidence": float(r["mean_confidence"])} for r in rows]
