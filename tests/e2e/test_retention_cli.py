"""`python -m dashboard cleanup` as an operator runs it: a subprocess against the test
database (ALERTDESK_DATABASE_URL), printing the report; bad input exits 2."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from tests.factories import act, make_alert

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "USER": "nightly"}
    assert env.get("ALERTDESK_DATABASE_URL"), "the db_url fixture points the CLI at the test DB"
    return subprocess.run([sys.executable, "-m", "dashboard", "cleanup", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def alert_ids(engine: sa.Engine) -> set[int]:
    with engine.connect() as c:
        return set(c.execute(sa.text("select id from alerts")).scalars())


def test_dry_run_json_then_the_run_as_a_table(engine: sa.Engine) -> None:
    now = datetime.now(timezone.utc)
    old = make_alert(engine, now - timedelta(days=100), summary="old", severity="info")
    act(engine, old, "resolve", now - timedelta(days=100, hours=-1))
    act(engine, old, "close", now - timedelta(days=95))
    kept = make_alert(engine, now - timedelta(days=100), summary="still open", severity="low")

    dry = cli("--older-than", "90d", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True and report["deleted"]["alerts"] == 1
    assert report["deleted"]["alert_events"] == 3 and report["deleted"]["alert_groups"] == 1
    assert alert_ids(engine) == {old, kept}

    run = cli("--older-than", "90d")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("retention run: older than 90d (cutoff ")
    assert lines[1].split() == ["table", "deleted"]
    assert lines[2].split() == ["alerts", "1"] and lines[3].split() == ["alert_events", "3"]
    assert alert_ids(engine) == {kept}
    with engine.connect() as c:
        row = c.execute(sa.text("select actor, actor_role, source, action from audit_log "
                                "where entity = 'retention'")).one()
    assert tuple(row) == ("cli:nightly", "admin", "cli", "cleanup")


def test_bad_input_exits_2_naming_older_than(engine: sa.Engine) -> None:
    now = datetime.now(timezone.utc)
    old = make_alert(engine, now - timedelta(days=100), summary="old", severity="info")
    act(engine, old, "resolve", now - timedelta(days=99))
    for args in (["--older-than", "12h"], ["--older-than", "ninety"]):
        r = cli(*args)
        assert r.returncode == 2 and "older_than" in r.stderr, r.stderr
    missing = cli()
    assert missing.returncode == 2 and "--older-than" in missing.stderr
    assert alert_ids(engine) == {old}
