"""Large CSV exports from the queue: prepared with a progress bar into a file, then offered
for download, with exactly the rows that match the filters."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from dashboard.exports import ONE_CLICK
from tests.factories import make_users
from tests.ui.conftest import app_as

BULK = ONE_CLICK + 37


def bulk_open(engine: sa.Engine, n: int, service: str) -> None:
    """``n`` open alerts of one service, written in one statement."""
    t = datetime.now(timezone.utc) - timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(sa.text("""
            insert into alerts (fingerprint, source, service, severity, state, summary,
                created_at, last_seen_at, updated_at, tta_target_s, ttr_target_s,
                tta_due_at, ttr_due_at)
            select :svc || '-' || i, 'test', :svc, 'low', 'new', 'bulk alert ' || i,
                   :t, :t, :t, 300, 3600, :t, :t
            from generate_series(1, :n) as i"""), {"n": n, "t": t, "svc": service})


def test_a_large_export_is_prepared_with_progress_then_downloaded(engine: sa.Engine) -> None:
    make_users(engine)
    bulk_open(engine, BULK, "bulkexport")
    bulk_open(engine, 5, "other")  # outside the filter: must not be exported
    at = app_as("olga", service="bulkexport").run()
    assert not at.exception
    prepare = [b for b in at.button if b.label.startswith("Prepare CSV")]
    assert prepare, [b.label for b in at.button]
    file_key = prepare[0].key.replace("_prepare", "_file")
    prepare[0].click().run()
    assert not at.exception
    ready = at.session_state[file_key]
    assert ready["rows"] == BULK
    rows = list(csv.DictReader(io.StringIO(Path(ready["path"]).read_text(encoding="utf-8"))))
    assert len(rows) == BULK and {r["service"] for r in rows} == {"bulkexport"}
    label = f"Download CSV ({BULK:,} rows)"
    assert any(d.label == label for d in at.get("download_button")), label


def test_a_small_export_stays_one_click(engine: sa.Engine) -> None:
    make_users(engine)
    bulk_open(engine, 3, "smallexport")
    at = app_as("olga", service="smallexport").run()
    assert not at.exception
    assert not [b for b in at.button if b.label.startswith("Prepare CSV")]
    assert [d for d in at.get("download_button") if d.label == "Download CSV"]
