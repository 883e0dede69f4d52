"""Single sign-on sessions: the identity a provider vouched for (a hash of issuer, subject
and the ID token's issue time) opens at most one session, so a sign-in that was logged out
or timed out cannot be revived from the provider's cookie; a new login at the provider can.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("alter table ui_sessions add column sso_key text unique")


def downgrade() -> None:
    op.execute("alter table ui_sessions drop column sso_key")
