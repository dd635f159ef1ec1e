"""publication: pending items per destination (publication_items), scheduler runs per
(job, slot) (scheduled_runs)

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-22 03:01:58.670175
"""
from alembic import op
import sqlalchemy as sa
import gateway.store.types
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0001'
branch_labels = ('publication',)
depends_on = None


def upgrade() -> None:
    op.create_table('scheduled_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=96), nullable=False),
    sa.Column('slot', sa.String(length=32), nullable=False),
    sa.Column('enqueued_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', gateway.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', gateway.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('runner', sa.String(length=96), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_runs')),
    sa.UniqueConstraint('job', 'slot', name=op.f('uq_scheduled_runs_job_slot'))
    )
    with op.batch_alter_table('scheduled_runs', schema=None) as batch_op:
        batch_op.create_index('ix_scheduled_runs_started_at', ['started_at'], unique=False)

    op.create_table('publication_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('destination', sa.String(length=64), nullable=False),
    sa.Column('source_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('record_uid', sa.String(length=40), nullable=True),
    sa.Column('ref_item_id', sa.String(length=64), nullable=True),
    sa.Column('fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('bulletin_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('batched_at', gateway.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_publication_items_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_items')),
    sa.UniqueConstraint('destination', 'source_key', name=op.f('uq_publication_items_destination_source_key')),
    sa.UniqueConstraint('item_id', name=op.f('uq_publication_items_item_id'))
    )
    with op.batch_alter_table('publication_items', schema=None) as batch_op:
        batch_op.create_index('ix_publication_items_destination_state_id', ['destination', 'state', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_publication_items_subject_id'), ['subject_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('publication_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publication_items_subject_id'))
        batch_op.drop_index('ix_publication_items_destination_state_id')

    op.drop_table('publication_items')
    with op.batch_alter_table('scheduled_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_scheduled_runs_started_at')

    op.drop_table('scheduled_runs')
