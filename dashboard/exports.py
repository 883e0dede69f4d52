"""A CSV download that stays responsive however large the export.

Up to ``ONE_CLICK`` rows the button builds the file when clicked (Streamlit's deferred
download). Above that, a "Prepare" button streams the rows from a server-side cursor into
a temporary file on disk while a progress bar counts them, then offers the file; the page
never holds the CSV as one Python string and the user sees it advance instead of a frozen
button. (For exports too big for a browser tab, the README points to the streamed
``GET /api/v1/alerts/export.csv``.)
"""
from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import streamlit as st

ONE_CLICK = 20_000
Chunks = Callable[[Callable[[int], None] | None], Iterator[str]]


def csv_download(key: str, file_name: str, rows_upto: int, total: Callable[[], int],
                 chunks: Chunks, help: str | None = None) -> None:
    """``rows_upto``: a count bounded at ``ONE_CLICK + 1``; ``total()`` the exact count
    (asked only for a large export); ``chunks(on_rows)`` the CSV text in pieces."""
    if rows_upto <= ONE_CLICK:
        st.download_button("Download CSV", data=lambda: "".join(chunks(None)).encode("utf-8"),
                           file_name=file_name, mime="text/csv", key=key, on_click="ignore",
                           help=help)
        return
    ready = st.session_state.get(f"{key}_file")
    prepare = st.button(f"Prepare CSV (more than {ONE_CLICK:,} rows)", key=f"{key}_prepare",
                        icon=":material/download:", help=help)
    if prepare:
        _discard(ready)
        _sweep()
        ready = st.session_state[f"{key}_file"] = _write(chunks, total(), file_name)
    if ready and Path(ready["path"]).exists():
        with open(ready["path"], "rb") as fh:
            st.download_button(f"Download CSV ({ready['rows']:,} rows)", data=fh,
                               file_name=file_name, mime="text/csv", key=key,
                               on_click="ignore", type="primary")


def _write(chunks: Chunks, total: int, file_name: str) -> dict[str, object]:
    bar = st.progress(0.0, text=f"Exporting 0 of {total:,} rows")
    done = [0]

    def advance(n: int) -> None:
        done[0] += n
        bar.progress(min(done[0] / max(total, 1), 1.0),
                     text=f"Exporting {done[0]:,} of {total:,} rows")

    fd, path = tempfile.mkstemp(prefix="alertdesk-export-", suffix=".csv")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        for chunk in chunks(advance):
            out.write(chunk)
    bar.progress(1.0, text=f"Exported {done[0]:,} rows")
    return {"path": path, "rows": done[0], "name": file_name}


def _sweep(max_age_s: float = 3600) -> None:
    """Remove exports left by sessions that ended more than an hour ago."""
    now = time.time()
    for path in Path(tempfile.gettempdir()).glob("alertdesk-export-*.csv"):
        try:
            if now - path.stat().st_mtime > max_age_s:
                path.unlink()
        except OSError:
            pass


def _discard(ready: dict[str, object] | None) -> None:
    if ready:
        Path(str(ready["path"])).unlink(missing_ok=True)
