"""Bulletins keep their reference digests (`bulletins.reference_digests`): what a receipt for
the bulletin must echo, read once when the bulletin is stored instead of by parsing the
signed bytes again for every delivery and every receipt. Bulletins stored before have NULL
and are parsed as before.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 18:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bulletins') as batch:
        batch.add_column(sa.Column('reference_digests', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bulletins') as batch:
        batch.drop_column('reference_digests')
