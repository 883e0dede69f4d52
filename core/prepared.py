"""Server-side prepared statements for the few statements every ingest request runs.

psycopg2 sends each statement as text, so PostgreSQL parses and plans it on every call;
for the ingest statements (CTEs over ``alerts`` with its 15 indexes) that was ~1.6 ms of
database CPU per batch, ~15 % of PostgreSQL's share on the bench. A ``Prepared``
statement is ``PREPARE``d once per database connection (tracked in the connection's
``info``, which SQLAlchemy clears when the connection is replaced) and run with
``EXECUTE``; PostgreSQL re-plans it by itself after schema changes.

Trade-off: a pooler in transaction mode between Alertdesk and PostgreSQL (PgBouncer)
does not keep SQL-level prepared statements per client; Alertdesk talks to PostgreSQL
directly (DESIGN.md), and ``ALERTDESK_PREPARED=0`` turns them off for such setups.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
INFO_KEY = "alertdesk_prepared"


def enabled() -> bool:
    return os.environ.get("ALERTDESK_PREPARED", "1") != "0"


class Prepared:
    """``sql`` with ``:name`` parameters, each given a PostgreSQL type in ``types``."""

    def __init__(self, name: str, sql: str, types: Mapping[str, str]) -> None:
        self.name, self.sql = name, sql
        self.order: list[str] = []
        for param in PARAM.findall(sql):
            if param not in self.order:
                self.order.append(param)
        missing = set(self.order) - set(types)
        if missing:
            raise ValueError(f"{name}: no type for {sorted(missing)}")
        numbered = PARAM.sub(lambda m: f"${self.order.index(m.group(1)) + 1}", sql)
        self.prepare_sql = (f"prepare {name} ({', '.join(types[p] for p in self.order)}) "
                            f"as {numbered}")
        self.execute_sql = f"execute {name} ({', '.join(['%s'] * len(self.order))})"

    def rows(self, session: Session, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """All rows of the statement as tuples, in the session's transaction."""
        if not enabled():
            return [tuple(r) for r in session.execute(sa.text(self.sql), dict(params))]
        conn = session.connection()
        done: set[str] = conn.info.setdefault(INFO_KEY, set())
        if self.name not in done:
            _cursor_rows(conn, self.prepare_sql, ())
            done.add(self.name)
        return _cursor_rows(conn, self.execute_sql, tuple(params[p] for p in self.order))


def _cursor_rows(conn: sa.Connection, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """On the DBAPI cursor: SQLAlchemy's result machinery (metadata, Row objects) cost the
    API ~15 % of its CPU per batch for these statements. Driver errors still surface as
    SQLAlchemy's DBAPIError subclasses, so retries and error mapping work as everywhere."""
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, args or None)
        return list(cursor.fetchall()) if cursor.description is not None else []
    except dbapi.Error as err:
        raise sa.exc.DBAPIError.instance(sql, args, err, dbapi.Error,
                                         dialect=conn.dialect) from err
    finally:
        cursor.close()
