"""delivery: bulletins and items, deliveries with leases, attempts, receipts with per-item
outcomes, per-destination circuit breaker state

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 03:01:05.227941
"""
from alembic import op
import sqlalchemy as sa
import gateway.store.types


revision = '0003'
down_revision = '0001'
branch_labels = ('delivery',)
depends_on = None


def upgrade() -> None:
    op.create_table('bulletins',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('destination', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('signed', sa.LargeBinary(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletins')),
    sa.UniqueConstraint('destination', 'sequence', name=op.f('uq_bulletins_destination_sequence'))
    )
    op.create_table('destination_state',
    sa.Column('destination', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('opened_at', gateway.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('probe_at', gateway.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('probe_delivery_id', sa.String(length=36), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('updated_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('destination', name=op.f('pk_destination_state'))
    )
    op.create_table('bulletin_items',
    sa.Column('bulletin_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('record_uid', sa.String(length=40), nullable=True),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['bulletin_id'], ['bulletins.id'], name=op.f('fk_bulletin_items_bulletin_id_bulletins'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('bulletin_id', 'item_id', name=op.f('pk_bulletin_items'))
    )
    with op.batch_alter_table('bulletin_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulletin_items_record_uid'), ['record_uid'], unique=False)

    op.create_table('deliveries',
    sa.Column('delivery_id', sa.String(length=36), nullable=False),
    sa.Column('bulletin_id', sa.String(length=64), nullable=False),
    sa.Column('destination', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_expires_at', gateway.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('receipt_overdue', sa.Boolean(), nullable=False),
    sa.Column('bad_receipts', sa.Integer(), nullable=False),
    sa.Column('created_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', gateway.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', gateway.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bulletin_id'], ['bulletins.id'], name=op.f('fk_deliveries_bulletin_id_bulletins')),
    sa.PrimaryKeyConstraint('delivery_id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('bulletin_id', 'destination', name=op.f('uq_deliveries_bulletin_id_destination'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_destination_state_next_attempt_at', ['destination', 'state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_deliveries_state_lease_expires_at', ['state', 'lease_expires_at'], unique=False)

    op.create_table('delivery_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.String(length=36), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=64), nullable=True),
    sa.Column('started_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', gateway.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.delivery_id'], name=op.f('fk_delivery_attempts_delivery_id_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempts'))
    )
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempts_delivery_id'), ['delivery_id'], unique=False)

    op.create_table('receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.String(length=36), nullable=False),
    sa.Column('receipt_id', sa.String(length=128), nullable=True),
    sa.Column('received_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signed', sa.LargeBinary(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('duplicate', sa.Boolean(), nullable=False),
    sa.Column('duplicate_count', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.delivery_id'], name=op.f('fk_receipts_delivery_id_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts')),
    sa.UniqueConstraint('delivery_id', 'content_hash', name=op.f('uq_receipts_delivery_id_content_hash'))
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_delivery_id'), ['delivery_id'], unique=False)

    op.create_table('receipt_items',
    sa.Column('receipt_pk', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('delivery_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['receipt_pk'], ['receipts.id'], name=op.f('fk_receipt_items_receipt_pk_receipts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('receipt_pk', 'item_id', name=op.f('pk_receipt_items'))
    )
    with op.batch_alter_table('receipt_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipt_items_delivery_id'), ['delivery_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('receipt_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipt_items_delivery_id'))

    op.drop_table('receipt_items')
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_delivery_id'))

    op.drop_table('receipts')
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempts_delivery_id'))

    op.drop_table('delivery_attempts')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_state_lease_expires_at')
        batch_op.drop_index('ix_deliveries_destination_state_next_attempt_at')

    op.drop_table('deliveries')
    with op.batch_alter_table('bulletin_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulletin_items_record_uid'))

    op.drop_table('bulletin_items')
    op.drop_table('destination_state')
    op.drop_table('bulletins')
