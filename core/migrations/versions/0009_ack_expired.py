"""Forgotten acks: when an acknowledgement expires the alert returns to 'new'; remember when,
so the queue can say "ack expired" until someone acknowledges it again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("alter table alerts add column ack_expired_at timestamptz")


def downgrade() -> None:
    op.execute("alter table alerts drop column ack_expired_at")
