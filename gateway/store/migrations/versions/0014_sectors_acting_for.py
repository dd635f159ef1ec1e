"""Listing procedure, second part (issue 12): the sector of an agency and of a subject (which
publication deadlines apply, docs/policy.md §8), and `acting_for` on a step (an operator
answering an objection for the providing agency, 谁提供、谁负责, §6)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agencies') as batch:
        batch.add_column(sa.Column('sector', sa.String(length=32), nullable=True))
    with op.batch_alter_table('subjects') as batch:
        batch.add_column(sa.Column('sector', sa.String(length=32), nullable=True))
    with op.batch_alter_table('list_entry_events') as batch:
        batch.add_column(sa.Column('acting_for', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('list_entry_events') as batch:
        batch.drop_column('acting_for')
    with op.batch_alter_table('subjects') as batch:
        batch.drop_column('sector')
    with op.batch_alter_table('agencies') as batch:
        batch.drop_column('sector')
