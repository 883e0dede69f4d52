"""URL tokens of their own kind: an API key may be scoped to one read-only view, ``wall``
(``/?wall=<key>``) or ``calendar`` (the on-call ``.ics`` feed's ``?token=``); such a key opens
that view and nothing else, and those URLs take no other key. Null: a normal API key.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07
"""
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
alter table api_keys add column scope text
    constraint api_keys_scope check (scope in ('wall', 'calendar'));
""")


def downgrade() -> None:
    op.execute("alter table api_keys drop column scope")
