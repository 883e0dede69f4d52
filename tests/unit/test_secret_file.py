"""The app secret file on a fresh data dir: processes that start together all get the same,
complete secret (it signs tokens and seals targets, so two secrets would break both)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

READER = """
import os, sys, time
go = sys.argv[1]
from core.secret import app_secret
print("ready", flush=True)
while not os.path.exists(go):
    pass
print(app_secret())
"""


def test_processes_racing_on_a_fresh_data_dir_read_one_complete_secret(tmp_path: Path) -> None:
    data, go = tmp_path / "data", tmp_path / "go"
    env = {**os.environ, "ALERTDESK_DATA_DIR": str(data), "PYTHONPATH": os.getcwd()}
    env.pop("ALERTDESK_SECRET_KEY", None)
    procs = [subprocess.Popen([sys.executable, "-c", READER, str(go)], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(12)]
    for p in procs:   # every one imported and spinning at the start line
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    go.touch()
    outs = [p.communicate(timeout=60) for p in procs]
    assert [err for _, err in outs if err] == []
    secrets = {out.strip() for out, _ in outs}   # (after "ready", which was read above)
    assert len(secrets) == 1 and len(secrets.pop()) >= 48
    assert (data / "secret_key").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in data.iterdir()) == ["secret_key"]  # no temp files left
