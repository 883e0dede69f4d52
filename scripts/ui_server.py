"""``streamlit run dashboard/app.py`` as a child process on a loopback port, for the browser
tests, the desk benchmark and anyone scripting the UI: started, waited for
(``/_stcore/health``), stopped by its PID (terminate, then wait)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


class UIServer:
    """The UI on ``port`` over the database at ``db_url``; restartable."""

    def __init__(self, db_url: str, port: int) -> None:
        self.db_url, self.port = db_url, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *extra: str, timeout: float = 60) -> UIServer:
        """Start it (``extra``: more ``streamlit run`` options) and wait until it is healthy."""
        env = {**os.environ, "ALERTDESK_DATABASE_URL": self.db_url, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
             "--server.headless", "true", "--server.address", "127.0.0.1",
             "--server.port", str(self.port), "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false", *extra],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/_stcore/health", timeout=2).text == "ok":
                    return self
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the UI did not start on port {self.port} in {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(20)
            self.proc = None

    @contextmanager
    def running(self, *extra: str) -> Iterator[UIServer]:
        self.start(*extra)
        try:
            yield self
        finally:
            self.stop()
