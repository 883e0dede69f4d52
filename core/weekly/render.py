"""The weekly report as files people send: Markdown, a self-contained HTML page, CSV.

All three render the same tables (``tables``). Every value that comes from data (summaries,
services, devices, user names, the filters) is escaped for its format: HTML-escaped,
Markdown-escaped (pipes and markup characters backslashed, line breaks flattened), and in
CSV a text cell starting with ``= + - @`` is prefixed with ``'`` so spreadsheets do not run
it as a formula. CSV cells keep raw numbers (seconds, percentages) for calculation.
"""
from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable
from datetime import date
from typing import Any

from core import csvstream
from core.durations import human
from core.severity import SEVERITIES

Fmt = Callable[[str, Any], Any]
Table = tuple[str, list[str], list[list[Any]]]
MD_SPECIAL = set("\\`*_[]<>#|~$!")


def duration(seconds: float) -> str:
    """The UI's format (core.durations)."""
    return human(seconds)


def text(kind: str, value: Any) -> str:
    """A value for people: durations, percentages, signed changes; "–" when unknown."""
    if value is None:
        return "–"
    if kind == "dur":
        return duration(value)
    if kind == "pct":
        return f"{value:.1f} %"
    if kind == "dpct":
        return f"{value:+.1f} pt"
    if kind == "ddur":
        return ("+" if value >= 0 else "") + duration(value)
    if kind == "delta":
        return f"{value:+d}"
    if kind == "num":
        return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    return str(value)


def raw(kind: str, value: Any) -> Any:
    return "" if value is None else value


def title(r: dict[str, Any]) -> str:
    first: date = r["week_start"]
    last: date = r["last_day"]
    scope = ", ".join(f"{k} {r[k]}" for k in ("service", "team") if r.get(k)) or "all alerts"
    return (f"Weekly report {r['week']}: {first:%a %d %b} – {last:%a %d %b %Y} "
            f"({r['tz']}) · {scope}")


def highlights(r: dict[str, Any]) -> list[str]:
    a, cur, oc = r["alerts"], r["sla"]["current"], r["on_call"]
    busiest = oc["busiest"]
    lines = [f"{a['total']:,} alerts ({text('delta', a['delta'])} vs the week before)",
             f"TTA met {text('pct', cur['tta_compliance_pct'])}, TTR met "
             f"{text('pct', cur['ttr_compliance_pct'])}, {cur['breaches']:,} breaches",
             f"MTTA {text('dur', cur['mtta_s'])}, MTTR {text('dur', cur['mttr_s'])}",
             f"Noise reduction {text('pct', r['noise']['noise_reduction_pct'])} "
             f"({r['noise']['raw_events']:,} raw events → {r['noise']['groups']:,} groups)",
             f"{r['notifications']['sent']:,} notifications sent"]
    if busiest:
        lines.append(f"Busiest: {busiest['username']} ({busiest['responded']} responded, "
                     f"{busiest['oncall_hours']:g} h on call)")
    if not r["complete"]:
        lines.append("The week is not over yet: the numbers are partial")
    return lines


def tables(r: dict[str, Any], f: Fmt) -> list[Table]:
    a, sla, top = r["alerts"], r["sla"], r["top_offenders"]
    cur, prev, d = sla["current"], sla["previous"], sla["deltas"]
    pct, sec = ("", "") if f is text else (" (%)", " (s)")  # CSV cells are raw numbers
    summary = [["Alerts", f("num", cur["alerts"]), f("num", prev["alerts"]), f("delta", a["delta"])],
               [f"TTA met{pct}", f("pct", cur["tta_compliance_pct"]), f("pct", prev["tta_compliance_pct"]),
                f("dpct", d["tta_compliance_pct"])],
               [f"TTR met{pct}", f("pct", cur["ttr_compliance_pct"]), f("pct", prev["ttr_compliance_pct"]),
                f("dpct", d["ttr_compliance_pct"])],
               [f"MTTA{sec}", f("dur", cur["mtta_s"]), f("dur", prev["mtta_s"]), f("ddur", d["mtta_s"])],
               [f"MTTR{sec}", f("dur", cur["mttr_s"]), f("dur", prev["mttr_s"]), f("ddur", d["mttr_s"])],
               ["Breaches", f("num", cur["breaches"]), f("num", prev["breaches"]),
                f("delta", cur["breaches"] - prev["breaches"])]]
    out: list[Table] = [("Summary", ["Measure", "This week", "Previous week", "Change"], summary)]
    out.append(("Alerts by severity", ["Severity", "Alerts", "Previous week", "Change"],
                [[x["severity"], f("num", x["alerts"]), f("num", x["previous"]),
                  f("delta", x["delta"])] for x in a["by_severity"]]))
    out.append(("Alerts per day", ["Day", "Alerts", *SEVERITIES],
                [[f"{x['day']:%a} {x['day'].isoformat()}", f("num", x["alerts"]),
                  *(f("num", x["by_severity"][s]) for s in SEVERITIES)] for x in a["per_day"]]))
    out.append(("Response times and SLA by severity",
                ["Severity", "Alerts", "TTA met", "TTR met", "MTTA", "Median TTA", "P90 TTA",
                 "MTTR", "Median TTR", "P90 TTR", "Breaches"],
                [[x["severity"], f("num", x["alerts"]), f("pct", x["tta_compliance_pct"]),
                  f("pct", x["ttr_compliance_pct"]),
                  *(f("dur", x[k]) for k in ("mtta_s", "p50_tta_s", "p90_tta_s", "mttr_s",
                                             "p50_ttr_s", "p90_ttr_s")),
                  f("num", x["breaches"])] for x in [*sla["by_severity"], {**cur, "severity": "all"}]]))
    out.append(("Top recurring alerts", ["Occurrences", "Alerts", "Severity", "Service", "Device",
                                         "Summary", "Fingerprint"],
                [[f("num", x["occurrences"]), f("num", x["alerts"]), x["severity"], x["service"],
                  x["device_id"], x["summary"], x["key"]] for x in top["alerts"]]))
    for key, name in (("services", "Service"), ("devices", "Device")):
        out.append((f"Top {key}", [name, "Occurrences", "Alerts"],
                    [[x["key"] or "(none)", f("num", x["occurrences"]), f("num", x["alerts"])]
                     for x in top[key]]))
    n = r["noise"]
    out.append(("Noise reduction", ["Raw events", "Alerts", "Groups", "Dedup reduction",
                                    "Noise reduction"],
                [[f("num", n["raw_events"]), f("num", n["alerts"]), f("num", n["groups"]),
                  f("pct", n["dedup_reduction_pct"]), f("pct", n["noise_reduction_pct"])]]))
    busiest = (r["on_call"]["busiest"] or {}).get("username")
    out.append(("On call", ["Person", "Hours on call", "Responded", "Pages received",
                            "Busiest"],
                [[p["username"], f("num", p["oncall_hours"]), f("num", p["responded"]),
                  f("num", p["paged"]), "yes" if p["username"] == busiest else ""]
                 for p in r["on_call"]["people"]]))
    nt = r["notifications"]
    out.append(("Notifications", ["Channel", "Queued", "Sent", "Failed"],
                [[x["channel"], f("num", x["queued"]), f("num", x["sent"]), f("num", x["failed"])]
                 for x in nt["by_channel"]]
                + [["all", f("num", nt["queued"]), f("num", nt["sent"]), f("num", nt["failed"])]]))
    return out


def md_escape(value: Any) -> str:
    flat = " ".join(str(value).splitlines())
    return "".join("\\" + ch if ch in MD_SPECIAL else ch for ch in flat)


def to_markdown(r: dict[str, Any]) -> str:
    lines = [f"# {md_escape(title(r))}", ""]
    lines += [f"- {md_escape(h)}" for h in highlights(r)]
    lines += ["", f"Busiest means {md_escape(r['on_call']['rule'])}.", ""]
    for name, header, rows in tables(r, text):
        lines += [f"## {md_escape(name)}", ""]
        if not rows:
            lines += ["Nothing this week.", ""]
            continue
        lines.append("| " + " | ".join(md_escape(h) for h in header) + " |")
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
        lines.append("")
    lines.append(f"Generated {r['generated_at']:%Y-%m-%d %H:%M} UTC by Alertdesk.")
    return "\n".join(lines) + "\n"


CSS = """body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1a1a1a;
max-width:960px;margin:24px auto;padding:0 16px}h1{font-size:22px}h2{font-size:17px;
margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}table{border-collapse:collapse;
width:100%;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}
th{background:#f4f6f8}td.n{text-align:right}ul{line-height:1.6}.muted{color:#666;
font-size:12px}"""


def _cell(value: Any, tag: str = "td") -> str:
    cls = ' class="n"' if tag == "td" and isinstance(value, str) and value[:1].isdigit() else ""
    return f"<{tag}{cls}>{html.escape(str(value), quote=True)}</{tag}>"


def to_html(r: dict[str, Any]) -> str:
    """One self-contained page: inline CSS, no scripts, no external assets."""
    esc = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{esc(title(r))}</title><style>{CSS}</style></head><body>",
             f"<h1>{esc(title(r))}</h1>", "<ul>"]
    parts += [f"<li>{esc(h)}</li>" for h in highlights(r)]
    parts.append(f"</ul><p class=\"muted\">Busiest means {esc(r['on_call']['rule'])}.</p>")
    for name, header, rows in tables(r, text):
        parts.append(f"<h2>{esc(name)}</h2>")
        if not rows:
            parts.append("<p class=\"muted\">Nothing this week.</p>")
            continue
        parts.append("<table><tr>" + "".join(_cell(h, "th") for h in header) + "</tr>")
        parts += ["<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    parts.append(f"<p class=\"muted\">Generated {r['generated_at']:%Y-%m-%d %H:%M} UTC by "
                 "Alertdesk.</p></body></html>")
    return "\n".join(parts) + "\n"


def csv_safe(value: Any) -> Any:
    return csvstream.safe(value)


def to_csv(r: dict[str, Any]) -> str:
    """Each table: a title row, the header, its rows, a blank line; raw numbers (seconds)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([csv_safe(title(r))])
    w.writerow([])
    for name, header, rows in tables(r, raw):
        w.writerow([name])
        w.writerow([f"{h} (s)" if h.startswith(("MTTA", "MTTR", "Median", "P90")) else
                    f"{h} (%)" if h.endswith((" met", "reduction")) else h for h in header])
        w.writerows([csv_safe(c) for c in row] for row in rows)
        w.writerow([])
    return buf.getvalue()
