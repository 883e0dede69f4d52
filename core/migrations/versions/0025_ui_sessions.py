"""Sign-in sessions of the web UI: the browser keeps a signed, expiring cookie naming a
session; the row says whether it still holds (revoked at logout, on a password change or
when the user is disabled; idle past the timeout). Only a hash of the session id is stored.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
create table ui_sessions (
    id              bigserial primary key,
    sid_hash        text not null unique,
    user_id         bigint not null references users(id) on delete cascade,
    created_at      timestamptz not null,
    last_seen_at    timestamptz not null,
    expires_at      timestamptz not null,
    revoked_at      timestamptz,
    revoked_reason  text,
    via             text not null default 'password'
);
create index ui_sessions_user on ui_sessions (user_id) where revoked_at is null;
""")


def downgrade() -> None:
    op.execute("drop table ui_sessions")
