"""AppTest helpers: the real app script, run in-process against the per-test database."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.actor import Actor

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def app_as(username: str | None, role: str = "operator", **query: str) -> AppTest:
    """The app with ``username`` signed in (None: nobody) and the URL's query params."""
    at = AppTest.from_file(APP, default_timeout=30)
    if username:
        at.session_state["actor"] = Actor(username, role, "ui")
    for key, value in query.items():
        at.query_params[key] = value
    return at


def select_rows(at: AppTest, rows: list[int]) -> AppTest:
    """Tick grid rows (positions) the way the browser's selection does, then rerun."""
    key = at.session_state["queue_table_key"]
    at.session_state[key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches() -> None:
    import streamlit as st

    st.cache_data.clear()
