"""Settings from the environment (the contract in DESIGN.md), read when asked, never cached."""
from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    path = Path(os.environ.get("ALERTDESK_DATA_DIR", ".alertdesk")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url_env() -> str | None:
    return os.environ.get("ALERTDESK_DATABASE_URL") or None


def api_port() -> int:
    return int(os.environ.get("ALERTDESK_API_PORT", "8000"))


def ui_port() -> int:
    return int(os.environ.get("ALERTDESK_UI_PORT", "8501"))


def demo_enabled() -> bool:
    return os.environ.get("ALERTDESK_DEMO", "").lower() in {"1", "true", "yes", "on"}
