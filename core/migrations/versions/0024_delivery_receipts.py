"""Delivery receipts: what the provider learnt after accepting a message. Twilio's status
callbacks say whether an SMS reached the phone and whether a call was answered; the outbox
row keeps the final word (``receipt`` delivered/undelivered, when, and the carrier's error).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
alter table notifications
    add column receipt text check (receipt in ('delivered', 'undelivered')),
    add column receipt_at timestamptz,
    add column receipt_error text;
create index notifications_twilio_sid on notifications (provider_id)
    where channel in ('sms', 'voice');
""")


def downgrade() -> None:
    op.execute("drop index notifications_twilio_sid; alter table notifications "
               "drop column receipt, drop column receipt_at, drop column receipt_error")
