"""Settings read from the environment."""
from __future__ import annotations


def test_api_workers_default_two_and_bounded(monkeypatch) -> None:
    from core import config

    monkeypatch.delenv("ALERTDESK_API_WORKERS", raising=False)
    assert config.api_workers() == 2
    for raw, want in (("3", 3), ("0", 1), ("500", 32), ("many", 1)):
        monkeypatch.setenv("ALERTDESK_API_WORKERS", raw)
        assert config.api_workers() == want
