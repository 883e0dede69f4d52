"""Apply Alembic migrations programmatically (``python -m dashboard migrate``)."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent  # this folder: env.py, versions/


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# Revisions that rewrite a table: its visibility map starts empty, so index-only scans
# (the reports' covering index, 0031) read the heap for every row until a VACUUM sets it
# again (bench, statistics 30 d: ~1 s instead of ~0.3 s). Autovacuum may not come for a
# long time after a rewrite, so the upgrade that applied one vacuums the table itself.
REWRITES = {"0031": "alerts", "0033": "alerts"}


def upgrade(engine: sa.Engine) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    before = current_revision(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    vacuum_rewritten(engine, before)


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        value = conn.scalar(sa.text("select version_num from alembic_version"))
        return None if value is None else str(value)


def vacuum_rewritten(engine: sa.Engine, before: str | None) -> list[str]:
    """VACUUM (ANALYZE) each table a revision applied after ``before`` rewrote (REWRITES);
    a fresh database (``before`` None) has nothing to vacuum. Returns the tables."""
    if before is None:
        return []
    tables = sorted({t for rev, t in REWRITES.items() if rev > before})
    if tables:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.execute(sa.text(f"vacuum (analyze) {table}"))
    return tables
