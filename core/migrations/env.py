"""Alembic environment. Migrations run under an advisory lock so two processes starting at
once (two API replicas, UI + API) never race each other."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context

MIGRATION_LOCK = 7_340_001  # arbitrary, constant advisory-lock key


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    connectable = context.config.attributes.get("connection") or sa.create_engine(str(url))
    if isinstance(connectable, sa.Connection):
        _run(connectable)
        return
    with connectable.connect() as connection:
        _run(connection)
    connectable.dispose()


def _run(connection: sa.Connection) -> None:
    connection.execute(sa.text("select pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
    connection.commit()
    try:
        context.configure(connection=connection, transactional_ddl=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        connection.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
        connection.commit()


run_migrations_online()
