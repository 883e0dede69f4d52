"""API tokens (JWTs) issued before a password change or a deactivation stop working: each
user has ``tokens_valid_after``; a token whose ``iat`` is earlier is refused.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("alter table users add column tokens_valid_after timestamptz")


def downgrade() -> None:
    op.execute("alter table users drop column tokens_valid_after")
