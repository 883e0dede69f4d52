"""The weekly report's renderers, pure: hostile data is escaped in every format."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

from core.severity import SEVERITIES
from core.weekly.render import duration, to_csv, to_html, to_markdown

HOSTILE = "<script>alert('x')</script> | col | *bold* [link](http://evil)\nsecond line"
WEEK = date(2026, 11, 16)


def sla_row(**kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"severity": None, "alerts": 3, "tta_met": 2, "tta_decided": 3,
                           "ttr_met": 1, "ttr_decided": 2, "breaches": 2,
                           "tta_compliance_pct": 66.67, "ttr_compliance_pct": 50.0,
                           "mtta_s": 250.0, "p50_tta_s": 200.0, "p90_tta_s": 460.0,
                           "mttr_s": 3700.0, "p50_ttr_s": 3700.0, "p90_ttr_s": 5000.0}
    row.update(kw)
    return row


def report(**kw: Any) -> dict[str, Any]:
    per_day = [{"day": WEEK + timedelta(days=i), "alerts": 1 if i == 2 else 0,
                "by_severity": {s: (1 if i == 2 and s == "critical" else 0) for s in SEVERITIES}}
               for i in range(7)]
    r: dict[str, Any] = {
        "week": "2026-W47", "week_start": WEEK, "last_day": WEEK + timedelta(days=6),
        "tz": "Europe/Berlin", "start": None, "end": None, "hours": 168, "complete": True,
        "generated_at": datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc),
        "service": "=cmd|' /C calc'!A0", "team": "ops | <b>night</b>",
        "alerts": {"total": 3, "previous": 5, "delta": -2, "delta_pct": -40.0,
                   "by_severity": [{"severity": s, "alerts": 1, "previous": 1, "delta": 0}
                                   for s in SEVERITIES], "per_day": per_day},
        "sla": {"current": sla_row(), "previous": sla_row(alerts=5, mtta_s=None),
                "by_severity": [sla_row(severity="critical")],
                "deltas": {"mtta_s": None, "mttr_s": -60.0, "tta_compliance_pct": 6.67,
                           "ttr_compliance_pct": -10.0}},
        "top_offenders": {
            "alerts": [{"key": "fp-1", "occurrences": 12, "alerts": 2, "summary": HOSTILE,
                        "service": "-2+3", "device_id": "@SUM(A1)", "severity": "critical"}],
            "services": [{"key": "billing", "occurrences": 12, "alerts": 2}],
            "devices": [{"key": "", "occurrences": 12, "alerts": 2}]},
        "noise": {"raw_events": 12, "alerts": 3, "groups": 2, "dedup_reduction_pct": 75.0,
                  "noise_reduction_pct": 83.33},
        "on_call": {"people": [{"username": "olga", "oncall_hours": 84.0, "responded": 2,
                                "paged": 3}],
                    "busiest": {"username": "olga", "oncall_hours": 84.0, "responded": 2,
                                "paged": 3}, "rule": "most alerts responded to", "schedules": 1},
        "notifications": {"queued": 4, "sent": 3, "failed": 1, "by_channel": [
            {"channel": "email", "queued": 4, "sent": 3, "failed": 1}]},
    }
    r.update(kw)
    return r


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_and_escapes_data() -> None:
    page = to_html(report())
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<script>" not in page and "<b>night</b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    parsed = Collector()
    parsed.feed(page)
    assert "script" not in parsed.tags and "link" not in parsed.tags and "img" not in parsed.tags
    assert not [v for _, v in parsed.attrs if v and ("http" in v or "//" in v)]  # no assets
    text = "".join(parsed.text)
    assert HOSTILE in text  # shown as typed
    assert "ops | <b>night</b>" in text and "Busiest: olga (2 responded, 84 h on call)" in text
    assert "66.7 %" in text and "4m 10s" in text and "1h 1m" in text  # TTA met, MTTA, MTTR


def test_markdown_escapes_pipes_markup_and_line_breaks() -> None:
    md = to_markdown(report())
    table = [line for line in md.splitlines() if "fp-1" in line]
    assert len(table) == 1  # the summary's line break did not split the row
    row = table[0]
    cells = row.replace("\\|", "\x00").split("|")[1:-1]
    assert len(cells) == 7  # pipes in the data are escaped, not column breaks
    assert "\\<script\\>" in row and "\\*bold\\*" in row and "\\[link\\]" in row
    assert "<script>" not in md
    assert md.splitlines()[0] == ("# Weekly report 2026-W47: Mon 16 Nov – Sun 22 Nov 2026 "
                                  "(Europe/Berlin) · service =cmd\\|' /C calc'\\!A0, team ops "
                                  "\\| \\<b\\>night\\</b\\>")
    assert "| Alerts | 3 | 5 | -2 |" in md
    assert "| MTTA | 4m 10s | – | – |" in md  # unknown previous value, no fake zero


def test_csv_tables_raw_numbers_and_no_formulas() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(report()))))
    assert rows[0][0].startswith("Weekly report 2026-W47")
    i = rows.index(["Summary"])
    assert rows[i + 1] == ["Measure", "This week", "Previous week", "Change"]
    assert rows[i + 2] == ["Alerts", "3", "5", "-2"]  # numbers stay numbers
    assert ["MTTA (s)", "250.0", "", ""] in rows
    top = rows[rows.index(["Top recurring alerts"]) + 2]
    assert top[3:5] == ["'-2+3", "'@SUM(A1)"] and top[5] == HOSTILE  # quoted, kept whole
    assert rows[rows.index(["Top devices"]) + 2] == ["(none)", "12", "2"]
    titles = [r[0] for r in rows if len(r) == 1]
    assert titles[1:] == ["Summary", "Alerts by severity", "Alerts per day",
                          "Response times and SLA by severity", "Top recurring alerts",
                          "Top services", "Top devices", "Noise reduction", "On call",
                          "Notifications"]
    assert rows[rows.index(["Notifications"]) + 3] == ["all", "4", "3", "1"]


def test_empty_tables_and_partial_week_are_said() -> None:
    r = report(complete=False)
    r["top_offenders"] = {"alerts": [], "services": [], "devices": []}
    md = to_markdown(r)
    assert "Nothing this week." in md and "not over yet" in md
    assert "Nothing this week." in to_html(r)


def test_duration_format() -> None:
    assert [duration(x) for x in (50, 250, 3180, 11100, 187200, -90)] == [
        "50s", "4m 10s", "53m", "3h 5m", "2d 4h", "-1m 30s"]
