"""The real Prometheus Alertmanager's PagerDuty receiver (Debian's prometheus-alertmanager,
``pagerduty_configs`` with a ``url``) pages a real Alertdesk API at ``/v2/enqueue``: the one-URL
swap. Its routing key is an Alertdesk API key that does not start with ``ad_``. The group's
alert opens in PostgreSQL, and resolves when the alert ends."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.e2e.test_alertmanager import alertmanager_stack, push, wait_until
from tests.factories import event_rows

ROUTING_KEY = "0123456789abcdef0123456789abcdef"  # shaped like PagerDuty's integration keys
CONFIG = """
route:
  receiver: desk
  group_by: [alertname, service]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: desk
    pagerduty_configs:
      - routing_key: {key}
        url: {url}/v2/enqueue
        send_resolved: true
        severity: '{{{{ .CommonLabels.severity }}}}'
        class: '{{{{ .CommonLabels.alertname }}}}'
        group: '{{{{ .CommonLabels.service }}}}'
        links:
          - href: https://runbooks.example.net/latency
            text: Runbook
"""


@pytest.fixture
def stack(engine: sa.Engine, tmp_path: Path) -> Iterator[str]:
    """Alertdesk API + Alertmanager paging it the PagerDuty way; yields Alertmanager's URL."""
    with alertmanager_stack(engine, tmp_path, "prometheus-pd", ROUTING_KEY, CONFIG) as base:
        yield base


def rows(engine: sa.Engine) -> list[sa.Row]:  # type: ignore[type-arg]
    with engine.connect() as c:
        return list(c.execute(sa.text("select * from alerts order by id")))


def test_real_alertmanager_pagerduty_receiver_pages_alertdesk(stack: str,
                                                              engine: sa.Engine) -> None:
    alert = {"labels": {"alertname": "HighLatency", "service": "checkout",
                        "severity": "critical", "instance": "web-0"},
             "annotations": {"summary": "p99 above 800 ms on web-0"},
             "generatorURL": "http://prometheus/graph"}
    push(stack, [alert])
    wait_until(lambda: len(rows(engine)) == 1, "the trigger event in Alertdesk")
    [row] = rows(engine)
    assert (row.source, row.severity, row.state, row.service) == (
        "pagerduty", "critical", "new", "checkout")
    assert row.labels["alertname"] == "HighLatency" and row.summary.startswith("[FIRING:1]")
    assert row.fingerprint.startswith("pd:prometheus-pd:")
    pd = row.metadata["pagerduty"]
    assert len(pd["dedup_key"]) == 64 and pd["client"] == "Alertmanager"
    assert pd["custom_details"]["num_firing"] == "1"
    assert {"text": "Runbook", "href": "https://runbooks.example.net/latency"} in \
        row.metadata["links"]

    push(stack, [{**alert, "endsAt": datetime.now(timezone.utc).isoformat()}])
    wait_until(lambda: rows(engine)[0].state == "resolved", "the resolve event")
    [row] = rows(engine)
    assert len(rows(engine)) == 1 and row.acknowledged_at is None  # a source resolve
    timeline = [(e.kind, e.to_state, e.actor, e.source) for e in event_rows(engine, row.id)]
    assert timeline == [("created", "new", "key:prometheus-pd", "webhook"),
                        ("transition", "resolved", "key:prometheus-pd", "webhook")]
