"""Settings from the environment (the contract in DESIGN.md), read when asked, never cached."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path


def data_dir() -> Path:
    path = Path(os.environ.get("ALERTDESK_DATA_DIR", ".alertdesk")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url_env() -> str | None:
    return os.environ.get("ALERTDESK_DATABASE_URL") or None


def api_port() -> int:
    return int(os.environ.get("ALERTDESK_API_PORT", "8000"))


def api_workers() -> int:
    """API processes (uvicorn --workers): each serves requests on its own core; every bit
    of state is in PostgreSQL, so any number is safe. Between 1 and 32; default 2: with
    one, an operator's click waited behind the parsing of a big Alertmanager batch in the
    same interpreter (bench/mixed.py: resolve p95 ~135 ms with 1, 61-75 ms with 2)."""
    try:
        return min(max(int(os.environ.get("ALERTDESK_API_WORKERS", "2")), 1), 32)
    except ValueError:
        return 1


def ui_port() -> int:
    return int(os.environ.get("ALERTDESK_UI_PORT", "8501"))


def demo_enabled() -> bool:
    return os.environ.get("ALERTDESK_DEMO", "").lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class LoginLimits:
    """Throttling of failed password sign-ins (core/login_throttle.py)."""

    free_failures: int = 5            # ALERTDESK_LOGIN_FREE_FAILURES: per account
    address_free_failures: int = 20   # ALERTDESK_LOGIN_ADDRESS_FREE_FAILURES: per client address
    backoff_s: float = 30             # ALERTDESK_LOGIN_BACKOFF_S: the first block, then doubling
    backoff_max_s: float = 900        # ALERTDESK_LOGIN_BACKOFF_MAX_S: the longest block
    forget_min: float = 60            # ALERTDESK_LOGIN_FORGET_MIN: quiet this long, count from 0


def login_limits() -> LoginLimits:
    """The ALERTDESK_LOGIN_* settings; a value that is not a number (or is negative, or
    zero where zero makes no sense) falls back to the default."""
    d = LoginLimits()
    return LoginLimits(
        free_failures=int(_number("ALERTDESK_LOGIN_FREE_FAILURES", d.free_failures, 0)),
        address_free_failures=int(_number("ALERTDESK_LOGIN_ADDRESS_FREE_FAILURES",
                                          d.address_free_failures, 0)),
        backoff_s=_number("ALERTDESK_LOGIN_BACKOFF_S", d.backoff_s, 1),
        backoff_max_s=_number("ALERTDESK_LOGIN_BACKOFF_MAX_S", d.backoff_max_s, 1),
        forget_min=_number("ALERTDESK_LOGIN_FORGET_MIN", d.forget_min, 1))


def _number(name: str, default: float, minimum: float) -> float:
    try:
        value = float(os.environ.get(name) or default)
    except ValueError:
        return default
    return value if math.isfinite(value) and value >= minimum else default
