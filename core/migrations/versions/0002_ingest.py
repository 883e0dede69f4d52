"""Ingest: look up the latest alert of a fingerprint (flap-window reopen), resolution codes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = """
create index alerts_fingerprint_latest on alerts (fingerprint, id desc);
create index alerts_anomaly_created on alerts (created_at) where source = 'anomaly';
alter table alerts add column resolution text
    check (resolution in ('fixed','false_positive','duplicate','wont_fix','expected','other'));
"""

DOWNGRADE = """
alter table alerts drop column resolution;
drop index alerts_fingerprint_latest;
drop index alerts_anomaly_created;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
