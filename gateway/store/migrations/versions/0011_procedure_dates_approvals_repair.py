"""The listing procedure (issue 12, rules 3-6): the day each step really happened
(list_entry_events.happened_on)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 19:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('list_entry_events') as batch:
        batch.add_column(sa.Column('happened_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('list_entry_events') as batch:
        batch.drop_column('happened_on')
