"""policy: stored decisions (decisions), list entries (list_entries) and every transition
of an entry (list_entry_events)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:09:32.731275
"""
from alembic import op
import sqlalchemy as sa
import gateway.store.types
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = ('policy',)
depends_on = None


def upgrade() -> None:
    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('profile', sa.String(length=64), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('computed_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checked_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('subject_changed_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('body', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_decisions_subject_id_subjects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions')),
    sa.UniqueConstraint('subject_id', 'profile', name=op.f('uq_decisions_subject_id_profile'))
    )
    op.create_table('list_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('list_kind', sa.String(length=24), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('open_key', sa.String(length=400), nullable=True),
    sa.Column('cases', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('record_uids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('region', sa.String(length=6), nullable=True),
    sa.Column('profile', sa.String(length=64), nullable=False),
    sa.Column('origin_uid', sa.String(length=40), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('removal_window_opens_on', sa.Date(), nullable=True),
    sa.Column('early_removal_from', sa.Date(), nullable=True),
    sa.Column('reapply_from', sa.Date(), nullable=True),
    sa.Column('removal_window_flagged_on', sa.Date(), nullable=True),
    sa.Column('reapply_window_flagged_on', sa.Date(), nullable=True),
    sa.Column('notified_at', gateway.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('argument_deadline', sa.Date(), nullable=True),
    sa.Column('created_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_list_entries_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_list_entries')),
    sa.UniqueConstraint('subject_id', 'open_key', name=op.f('uq_list_entries_subject_id_open_key')),
    sa.UniqueConstraint('uid', name=op.f('uq_list_entries_uid'))
    )
    with op.batch_alter_table('list_entries', schema=None) as batch_op:
        batch_op.create_index('ix_list_entries_list_kind_state', ['list_kind', 'state'], unique=False)
        batch_op.create_index('ix_list_entries_state_expires_on', ['state', 'expires_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_list_entries_subject_id'), ['subject_id'], unique=False)

    op.create_table('list_entry_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('to_state', sa.String(length=24), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['list_entries.id'], name=op.f('fk_list_entry_events_entry_id_list_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_list_entry_events'))
    )
    with op.batch_alter_table('list_entry_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_list_entry_events_entry_id'), ['entry_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('list_entry_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_list_entry_events_entry_id'))

    op.drop_table('list_entry_events')
    with op.batch_alter_table('list_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_list_entries_subject_id'))
        batch_op.drop_index('ix_list_entries_state_expires_on')
        batch_op.drop_index('ix_list_entries_list_kind_state')

    op.drop_table('list_entries')
    op.drop_table('decisions')
