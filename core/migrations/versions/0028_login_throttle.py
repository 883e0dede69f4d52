"""Throttling of failed password sign-ins, shared by every API and UI process: one row per
account or client address that failed recently (its key is a SHA-256, so a password typed
into the username box is never stored), its failure count, and until when it is blocked.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07
"""
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
create table login_throttle (
    key              text primary key,
    kind             text not null check (kind in ('account', 'address')),
    failures         integer not null check (failures > 0),
    last_failure_at  timestamptz not null,
    blocked_until    timestamptz
);
create index login_throttle_last_failure on login_throttle (last_failure_at);
""")


def downgrade() -> None:
    op.execute("drop table login_throttle")
