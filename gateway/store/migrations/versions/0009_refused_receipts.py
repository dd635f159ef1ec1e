"""Receipts: the refused-receipts log (who posted what, why it was refused; the delivery is
untouched) and `receipts.conflict` (a signed receipt contradicting the one that settled its
delivery, kept and never applied; was an `error` text prefix)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 19:00:00
"""
from alembic import op
import sqlalchemy as sa
import gateway.store.types

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

UTC = gateway.store.types.UTCDateTime(timezone=True)
CONFLICT_TEXT = ("conflict: the delivery was already settled by an earlier signed receipt with other outcomes; "
                 "kept, not applied")


def upgrade() -> None:
    op.create_table('refused_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('received_at', UTC, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('delivery_id', sa.String(length=36), nullable=True),
    sa.Column('destination', sa.String(length=64), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('organisation', sa.String(length=18), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('document', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_refused_receipts_received_at', 'refused_receipts', ['received_at'])
    op.create_index('ix_refused_receipts_delivery_id', 'refused_receipts', ['delivery_id'])
    with op.batch_alter_table('receipts') as batch:
        batch.add_column(sa.Column('conflict', sa.Boolean(), server_default=sa.false(), nullable=False))
    receipts = sa.table('receipts', sa.column('error', sa.Text()), sa.column('conflict', sa.Boolean()))
    op.execute(receipts.update().where(receipts.c.error.like('conflict:%')).values(conflict=True, error=None))


def downgrade() -> None:
    receipts = sa.table('receipts', sa.column('error', sa.Text()), sa.column('conflict', sa.Boolean()))
    op.execute(receipts.update().where(receipts.c.conflict.is_(True)).values(error=CONFLICT_TEXT))
    with op.batch_alter_table('receipts') as batch:
        batch.drop_column('conflict')
    op.drop_index('ix_refused_receipts_delivery_id', table_name='refused_receipts')
    op.drop_index('ix_refused_receipts_received_at', table_name='refused_receipts')
    op.drop_table('refused_receipts')
