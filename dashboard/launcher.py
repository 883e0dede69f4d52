"""`python -m dashboard` (what `make run` runs): database, migrations, bootstrap, demo seed,
then the API, the worker and the UI as child processes; Ctrl-C stops them all, and the
embedded PostgreSQL with them (this process holds its handle)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from core import config
from core import db as core_db
from dashboard import sso

ROOT = Path(__file__).resolve().parents[1]


def prepare() -> str:
    """Database up and migrated, admin and ingest key bootstrapped, demo seeded if asked."""
    from core.auth import bootstrap
    from core.clock import SYSTEM_CLOCK
    from core.migrations.apply import upgrade

    url = core_db.database_url()
    engine = core_db.get_engine(url)
    upgrade(engine)
    with core_db.transaction(engine) as session:
        password = bootstrap(session, os.environ.get("ALERTDESK_ADMIN_USER"),
                             os.environ.get("ALERTDESK_ADMIN_PASSWORD"),
                             os.environ.get("ALERTDESK_API_KEY"))
    if password:
        user = os.environ.get("ALERTDESK_ADMIN_USER") or "admin"
        print(f"Created admin user {user!r} with password: {password}  (shown once)", flush=True)
    if config.demo_enabled():
        from core.demo.seed import seed_demo

        counts = seed_demo(engine, SYSTEM_CLOCK.now())
        print(f"Demo data: {counts}", flush=True)
    return url


def children(url: str) -> dict[str, list[str]]:
    py = sys.executable
    host = os.environ.get("ALERTDESK_HOST", "127.0.0.1")
    return {
        "api": [py, "-m", "uvicorn", "api.app:app", "--host", host,
                "--port", str(config.api_port()), "--log-level", "warning",
                "--workers", str(config.api_workers())],
        "worker": [py, "-m", "dashboard", "worker"],
        "ui": [py, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
               "--server.headless", "true", "--server.address", host,
               "--server.port", str(config.ui_port()), "--server.fileWatcherType", "none",
               "--browser.gatherUsageStats", "false", *sso.streamlit_args()],
    }


def _wait_http(url: str, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def run() -> int:
    # Ctrl-C stops everything even when the launcher inherited SIGINT ignored (a shell
    # starts background jobs that way, so do some test runners): without this, the first
    # child to stop on the group's SIGINT was taken for a crash (exit code 1).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    url = prepare()
    env = {**os.environ, "ALERTDESK_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    commands = children(url)

    def spawn(name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(commands[name], cwd=ROOT, env=env)

    procs = {name: spawn(name) for name in commands}
    api = f"http://127.0.0.1:{config.api_port()}"
    ui = f"http://127.0.0.1:{config.ui_port()}"
    try:
        ok = _wait_http(f"{api}/healthz") and _wait_http(f"{ui}/_stcore/health")
        print(f"\nAlertdesk is {'up' if ok else 'starting (slowly)'}:\n  UI   {ui}\n"
              f"  API  {api}/api/v1  (docs: {api}/docs)\nCtrl-C stops everything.\n", flush=True)
        return _supervise(procs, url, spawn)
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(procs)


def _supervise(procs: dict[str, subprocess.Popen[bytes]], url: str,
               spawn: Callable[[str], subprocess.Popen[bytes]] | None = None) -> int:
    """Watch the children and the embedded PostgreSQL. A child that exits is started again
    (the worker is stateless: its claims expire and another pass takes them; the API and
    the UI hold nothing a restart loses), unless it exited RESTARTS times within
    RESTART_WINDOW_S: then everything stops with the reason (never a half-alive desk, never
    a restart loop). A postmaster that died is started again on the same data (the API
    answers 503 meanwhile and every process reconnects by itself), and if it cannot be,
    everything stops with the reason."""
    server = core_db.embedded_in_use()
    checked = time.monotonic()
    restarts: dict[str, list[float]] = {}
    while True:
        for name, proc in list(procs.items()):
            code = proc.poll()
            if code is None:
                continue
            now = time.monotonic()
            recent = [t for t in restarts.get(name, []) if now - t < RESTART_WINDOW_S]
            if spawn is None or len(recent) >= RESTARTS:
                print(f"{name} exited with code {code}"
                      f"{f' ({len(recent)} restarts in {RESTART_WINDOW_S // 60} min)' if recent else ''}"
                      "; stopping Alertdesk", file=sys.stderr, flush=True)
                return code or 1
            print(f"{name} exited with code {code}; starting it again", file=sys.stderr,
                  flush=True)
            procs[name], restarts[name] = spawn(name), [*recent, now]
        if server is not None and time.monotonic() - checked > PG_CHECK_S:
            checked = time.monotonic()
            if not core_db.embedded_alive(server):
                code = _restart_database(server, url)
                if code is not None:
                    return code
        time.sleep(0.5)


RESTARTS, RESTART_WINDOW_S = 5, 300
PG_CHECK_S = 2.0


def _restart_database(server: object, url: str) -> int | None:
    print("embedded PostgreSQL stopped; starting it again (the API answers 503 meanwhile)",
          file=sys.stderr, flush=True)
    try:
        again = core_db.restart_embedded(server)
    except Exception as err:  # noqa: BLE001 - any failure: stop everything, say why
        print(f"embedded PostgreSQL could not be restarted ({type(err).__name__}: {err}); "
              f"stopping Alertdesk. Its log: {getattr(server, 'log', 'pgdata/log')}",
              file=sys.stderr, flush=True)
        return 1
    if again != url:
        print("embedded PostgreSQL came back at another address; stopping Alertdesk "
              "(start it again)", file=sys.stderr, flush=True)
        return 1
    print("embedded PostgreSQL is back; processes reconnect by themselves", file=sys.stderr,
          flush=True)
    return None


def _stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    print("Alertdesk stopped.", flush=True)
