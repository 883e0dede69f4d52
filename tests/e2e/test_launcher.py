"""`python -m dashboard` (what `make run` runs) on the embedded default: everything comes
up, Ctrl-C stops everything including PostgreSQL, and a second start reuses the data."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
KEY = "ad_launcher-test-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(data_dir: Path, api_port: int, ui_port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "ALERTDESK_DATABASE_URL"}
    env.update(ALERTDESK_DATA_DIR=str(data_dir), ALERTDESK_API_PORT=str(api_port),
               ALERTDESK_UI_PORT=str(ui_port), ALERTDESK_ADMIN_USER="root-admin",
               ALERTDESK_ADMIN_PASSWORD="first-start-pw", ALERTDESK_API_KEY=KEY,
               PYTHONPATH=str(ROOT))
    # Started with SIGINT ignored, as a shell starts a background job (and as it happened
    # inside the full suite): Ctrl-C must still stop everything with exit code 0.
    return subprocess.Popen([sys.executable, "-m", "dashboard"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))


def wait_ready(proc: subprocess.Popen[str], timeout: float = 120) -> str:
    out: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        out.append(line)
        if "Ctrl-C stops everything" in line:
            return "".join(out)
    raise AssertionError("launcher did not come up:\n" + "".join(out))


def ctrl_c(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    proc.wait(60)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_run_starts_everything_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    api_port, ui_port = free_port(), free_port()
    proc = start(tmp_path, api_port, ui_port)
    try:
        banner = wait_ready(proc)
        assert f"http://127.0.0.1:{ui_port}" in banner and f"http://127.0.0.1:{api_port}" in banner
        api = f"http://127.0.0.1:{api_port}"
        assert httpx.get(f"{api}/healthz").json()["database"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{ui_port}/_stcore/health").text == "ok"
        r = httpx.post(f"{api}/api/v1/alerts", headers={"X-API-Key": KEY},
                       json={"summary": "kept across restarts", "severity": "high"})
        assert r.status_code == 201
    finally:
        ctrl_c(proc)
    pid_file = tmp_path / "pgdata" / "postmaster.pid"
    assert not pid_file.exists(), "embedded PostgreSQL still running after Ctrl-C"
    assert not port_open(api_port) and not port_open(ui_port)

    proc = start(tmp_path, api_port, ui_port)
    try:
        wait_ready(proc)
        token = httpx.post(f"http://127.0.0.1:{api_port}/api/v1/auth/token",
                           json={"username": "root-admin", "password": "first-start-pw"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        alerts = httpx.get(f"http://127.0.0.1:{api_port}/api/v1/alerts", headers=headers).json()
        assert [a["summary"] for a in alerts["data"]] == ["kept across restarts"]
    finally:
        ctrl_c(proc)
    assert proc.returncode == 0, proc.stdout.read() if proc.stdout else ""
    assert not pid_file.exists()


def test_a_killed_database_comes_back_without_a_person(tmp_path: Path) -> None:
    """The embedded postmaster killed mid-run: the API answers 503 with Retry-After (never
    500) until `make run` has started it again, then everything works with no accepted
    alert lost."""
    api_port, ui_port = free_port(), free_port()
    proc = start(tmp_path, api_port, ui_port)
    api, key = f"http://127.0.0.1:{api_port}", {"X-API-Key": KEY}
    try:
        wait_ready(proc)
        accepted = []
        r = httpx.post(f"{api}/api/v1/alerts", headers=key, json={"summary": "before", "severity": "high"})
        assert r.status_code == 201
        accepted.append(r.json()["id"])
        pid = int((tmp_path / "pgdata" / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        seen: list[int] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            r = httpx.post(f"{api}/api/v1/alerts", headers=key, timeout=10,
                           json={"summary": f"during {len(seen)}", "severity": "low",
                                 "device_id": f"d{len(seen)}"})
            seen.append(r.status_code)
            if r.status_code == 503:
                assert r.headers["retry-after"] == "5" and "database" in r.json()["error"]
            if r.status_code == 201:
                accepted.append(r.json()["id"])
                if 503 in seen:
                    break
            time.sleep(0.2)
        assert set(seen) <= {201, 503} and 503 in seen and seen[-1] == 201, seen
        assert httpx.get(f"{api}/healthz").json()["database"] == "ok"
        token = httpx.post(f"{api}/api/v1/auth/token", json={
            "username": "root-admin", "password": "first-start-pw"}).json()["access_token"]
        listed = httpx.get(f"{api}/api/v1/alerts", params={"limit": 500},
                           headers={"Authorization": f"Bearer {token}"}).json()
        assert set(accepted) <= {a["id"] for a in listed["data"]}   # nothing accepted was lost
        assert proc.poll() is None                                  # the desk stayed up
    finally:
        ctrl_c(proc)


def child_pids(parent: int, marker: str) -> list[int]:
    """Processes whose parent is ``parent`` and whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and marker in cmd:
            found.append(int(entry.name))
    return found


def wait_child(parent: int, marker: str, timeout: float = 30) -> int:
    """The one child of ``parent`` with ``marker`` once it is there (polled)."""
    deadline = time.monotonic() + timeout
    while not (found := child_pids(parent, marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    [pid] = found
    return pid


def test_a_killed_worker_is_started_again(tmp_path: Path) -> None:
    """kill -9 of the worker: `make run` starts another, which does the work (an alert
    posted afterwards gets its worker-made escalation), and the desk never went down."""
    api_port, ui_port = free_port(), free_port()
    proc = start(tmp_path, api_port, ui_port)
    api, key = f"http://127.0.0.1:{api_port}", {"X-API-Key": KEY}
    try:
        wait_ready(proc)
        worker = wait_child(proc.pid, "dashboard worker")
        os.kill(worker, signal.SIGKILL)
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline and "starting it again" not in line:
            line = proc.stdout.readline()
        assert line.startswith("worker exited with code -9; starting it again"), line
        again = wait_child(proc.pid, "dashboard worker")  # the line comes just before the spawn
        assert again != worker
        alert = {"summary": "disk full", "service": "billing", "device_id": "db-01",
                 "labels": {"alertname": "DiskFull"}}
        target = httpx.post(f"{api}/api/v1/alerts", headers=key, json={
            **alert, "severity": "medium", "fingerprint": "warn-1"}).json()["id"]
        source = httpx.post(f"{api}/api/v1/alerts", headers=key, json={
            **alert, "severity": "critical", "fingerprint": "crit-1"}).json()["id"]
        token = httpx.post(f"{api}/api/v1/auth/token", json={
            "username": "root-admin", "password": "first-start-pw"}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 60     # the default rule's mark is the worker's work
        got: dict = {}  # type: ignore[type-arg]
        while time.monotonic() < deadline and got.get("inhibited_by") != source:
            got = httpx.get(f"{api}/api/v1/alerts/{target}", headers=auth).json()
            time.sleep(0.5)
        assert got.get("inhibited_by") == source, got
        assert proc.poll() is None
    finally:
        ctrl_c(proc)
