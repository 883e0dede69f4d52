"""The app secret and the masking of sealed values: the two things that sign or hide.

The app secret signs JWTs (``core.auth``) and derives the key that seals notification
targets (``core.notify.vault``); sealed values are masked wherever a target is shown
(the audit trail, API answers). Both live here, in the kernel, so that ``audit`` need not
reach up into ``notify`` and ``notify`` need not reach into ``auth``.
"""
from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core import config

MASK = "•••"


def app_secret() -> str:
    """ALERTDESK_SECRET_KEY, else a 0600 file in the data dir (made on first use), read
    once per process and data dir (every sealed target's send asks for it)."""
    env = os.environ.get("ALERTDESK_SECRET_KEY")
    if env:
        return env
    return _file_secret(os.environ.get("ALERTDESK_DATA_DIR"), os.getcwd())


@functools.lru_cache(maxsize=8)
def _file_secret(_data_dir_env: str | None, _cwd: str) -> str:
    """The secret file's content, made if missing. Processes starting together on a fresh
    data dir race here: each writes a complete file of its own under a private name and
    links it into place (atomic, and refused if the file is already there), so every
    process reads the same, complete secret - never an empty file half-written."""
    path: Path = config.data_dir() / "secret_key"
    if not path.exists():
        tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won; use its secret
        finally:
            tmp.unlink()
    return path.read_text().strip()


def public_target(target: Mapping[str, Any]) -> dict[str, Any]:
    """The target fit for a log or an API answer: sealed values masked."""
    return {k: (MASK if k.endswith("_sealed") else v) for k, v in target.items()}
