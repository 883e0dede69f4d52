"""The real Prometheus Alertmanager (Debian's prometheus-alertmanager, started here on
loopback with a generated config) notifies a real Alertdesk API: alerts pushed through
Alertmanager's API v2 arrive, and when one of the group resolves only that one resolves,
with the operator's earlier acknowledgement kept in its timeline."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from core import db as core_db
from core.auth import create_api_key
from tests.e2e.test_launcher import free_port
from tests.e2e.test_replicas import start_api, wait_healthy
from tests.factories import act, event_rows, make_users

BINARY = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
KEY = "ad_alertmanager-e2e-key-0123456789"
CONFIG = """
route:
  receiver: alertdesk
  group_by: [alertname, service]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: alertdesk
    webhook_configs:
      - url: {url}/api/v1/webhooks/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {key}
"""


@contextmanager
def alertmanager_stack(engine: sa.Engine, tmp_path: Path, key_name: str, key: str,
                       config: str) -> Iterator[str]:
    """Alertdesk API + the real Alertmanager with ``config`` (``{url}`` = the API, ``{key}`` =
    an operator API key made under ``key_name``); yields Alertmanager's base URL."""
    assert Path(BINARY).exists(), "prometheus-alertmanager missing: `make test` installs it"
    make_users(engine)
    with core_db.transaction(engine) as s:
        create_api_key(s, key_name, "operator", None, key=key)
    api_port, am_port = free_port(), free_port()
    api = start_api(api_port)
    (tmp_path / "am.yml").write_text(config.format(url=f"http://127.0.0.1:{api_port}", key=key))
    am = subprocess.Popen([BINARY, f"--config.file={tmp_path / 'am.yml'}",
                           f"--storage.path={tmp_path / 'am-data'}",
                           f"--web.listen-address=127.0.0.1:{am_port}",
                           "--cluster.listen-address=", "--log.level=warn"])
    base = f"http://127.0.0.1:{am_port}"
    try:
        wait_healthy(f"http://127.0.0.1:{api_port}")
        wait_until(lambda: _ready(base), "alertmanager ready")
        yield base
    finally:
        for proc in (am, api):
            proc.terminate()
            proc.wait(20)


@pytest.fixture
def stack(engine: sa.Engine, tmp_path: Path) -> Iterator[str]:
    """Alertdesk API + Alertmanager pointing at it; yields Alertmanager's base URL."""
    with alertmanager_stack(engine, tmp_path, "alertmanager", KEY, CONFIG) as base:
        yield base


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Wait for another process (Alertmanager's notification) — not for time to pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def push(base: str, alerts: list[dict]) -> None:
    r = httpx.post(f"{base}/api/v2/alerts", json=alerts, timeout=10)
    assert r.status_code == 200, r.text


def states(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as c:
        return dict(c.execute(sa.text("select device_id, state from alerts")).all())


def test_real_alertmanager_notifies_firing_and_resolved(stack: str, engine: sa.Engine) -> None:
    alerts = [{"labels": {"alertname": "HighLatency", "service": "checkout", "severity": sev,
                          "instance": f"web-{i}"},
               "annotations": {"summary": f"p99 above 800 ms on web-{i}"},
               "generatorURL": "http://prometheus/graph"}
              for i, sev in enumerate(("critical", "warning", "warning"))]
    push(stack, alerts)
    wait_until(lambda: len(states(engine)) == 3, "3 firing alerts in Alertdesk")
    with engine.connect() as c:
        row = c.execute(sa.text("select id, severity, summary, labels, source from alerts "
                                "where device_id = 'web-0'")).one()
    assert (row.severity, row.source) == ("critical", "alertmanager")
    assert row.summary == "p99 above 800 ms on web-0" and row.labels["service"] == "checkout"
    act(engine, row.id, "acknowledge", datetime.now(timezone.utc))

    ended = {**alerts[0], "endsAt": datetime.now(timezone.utc).isoformat()}
    push(stack, [ended])
    wait_until(lambda: states(engine)["web-0"] == "resolved", "the resolved notification")
    assert states(engine) == {"web-0": "resolved", "web-1": "new", "web-2": "new"}
    timeline = [(e.kind, e.to_state, e.source) for e in event_rows(engine, row.id)]
    assert timeline[1] == ("transition", "acknowledged", "ui")
    assert timeline[-1] == ("transition", "resolved", "alertmanager")
    meta = json.loads(json.dumps(event_rows(engine, row.id)[-1].metadata))
    assert meta["rule"] == "RES-SRC"
