"""The app secret and the masking of sealed values: the two things that sign or hide.

The app secret signs JWTs (``core.auth``) and derives the key that seals notification
targets (``core.notify.vault``); sealed values are masked wherever a target is shown
(the audit trail, API answers). Both live here, in the kernel, so that ``audit`` need not
reach up into ``notify`` and ``notify`` need not reach into ``auth``.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core import config

MASK = "•••"


def app_secret() -> str:
    """ALERTDESK_SECRET_KEY, else a 0600 file in the data dir (made on first use)."""
    env = os.environ.get("ALERTDESK_SECRET_KEY")
    if env:
        return env
    path: Path = config.data_dir() / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def public_target(target: Mapping[str, Any]) -> dict[str, Any]:
    """The target fit for a log or an API answer: sealed values masked."""
    return {k: (MASK if k.endswith("_sealed") else v) for k, v in target.items()}
