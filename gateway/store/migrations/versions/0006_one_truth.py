"""one truth for each subject's standing: the change feed (subject_changes), the stored
standing (standings), deployment state, quarantined publication items, corrections of list
entries, and the objection outcomes named so nobody can misread them (upheld →
objection_rejected; the actions uphold → reject_objection, correct → correct_listing)

Revision ID: 0006
Revises: 0002, 0003, 0004, 0005
Create Date: 2026-12-02 08:00:00
"""
from alembic import op
import sqlalchemy as sa
import gateway.store.types
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = ('0002', '0003', '0004', '0005')
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
UTC = gateway.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('subject_changes',
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('cause', sa.String(length=32), nullable=False),
    sa.Column('enqueued_at', UTC, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', UTC, nullable=False),
    sa.Column('lease_owner', sa.String(length=96), nullable=True),
    sa.Column('lease_expires_at', UTC, nullable=True),
    sa.Column('claimed_seq', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('failed_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_subject_changes_subject_id_subjects'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subject_id', name=op.f('pk_subject_changes'))
    )
    with op.batch_alter_table('subject_changes', schema=None) as batch_op:
        batch_op.create_index('ix_subject_changes_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)

    op.create_table('standings',
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('profile', sa.String(length=64), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('restricted', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('next_change_on', sa.Date(), nullable=True),
    sa.Column('receivers', sa.String(length=200), server_default='', nullable=False),
    sa.Column('computed_at', UTC, nullable=False),
    sa.Column('checked_at', UTC, nullable=False),
    sa.Column('body', JSON, nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_standings_subject_id_subjects'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subject_id', name=op.f('pk_standings'))
    )
    with op.batch_alter_table('standings', schema=None) as batch_op:
        batch_op.create_index('ix_standings_next_change_on', ['next_change_on'], unique=False)

    op.create_table('deployment_state',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', JSON, nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_deployment_state'))
    )

    with op.batch_alter_table('publication_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('quarantined_at', UTC, nullable=True))

    with op.batch_alter_table('list_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('correction_note', sa.Text(), nullable=True))

    # the objection outcomes, renamed (the API keeps the old action names as aliases)
    op.execute("UPDATE list_entries SET state = 'objection_rejected' WHERE state = 'upheld'")
    op.execute("UPDATE list_entry_events SET from_state = 'objection_rejected' WHERE from_state = 'upheld'")
    op.execute("UPDATE list_entry_events SET to_state = 'objection_rejected' WHERE to_state = 'upheld'")
    op.execute("UPDATE list_entry_events SET action = 'reject_objection' WHERE action = 'uphold'")
    op.execute("UPDATE list_entry_events SET action = 'correct_listing' WHERE action = 'correct'")
    # every subject is decided once under the new rules: its standing is stored from now on
    op.execute("INSERT INTO subject_changes (subject_id, seq, cause, enqueued_at, state, attempts, next_attempt_at) "
               "SELECT id, 1, 'migration', changed_at, 'pending', 0, changed_at FROM subjects")


def downgrade() -> None:
    op.execute("UPDATE list_entry_events SET action = 'correct' WHERE action = 'correct_listing'")
    op.execute("UPDATE list_entry_events SET action = 'uphold' WHERE action = 'reject_objection'")
    op.execute("UPDATE list_entry_events SET to_state = 'upheld' WHERE to_state = 'objection_rejected'")
    op.execute("UPDATE list_entry_events SET from_state = 'upheld' WHERE from_state = 'objection_rejected'")
    op.execute("UPDATE list_entries SET state = 'upheld' WHERE state = 'objection_rejected'")
    with op.batch_alter_table('list_entries', schema=None) as batch_op:
        batch_op.drop_column('correction_note')
        batch_op.drop_column('revision')
    with op.batch_alter_table('publication_items', schema=None) as batch_op:
        batch_op.drop_column('quarantined_at')
        batch_op.drop_column('error')
    op.drop_table('deployment_state')
    with op.batch_alter_table('standings', schema=None) as batch_op:
        batch_op.drop_index('ix_standings_next_change_on')
    op.drop_table('standings')
    with op.batch_alter_table('subject_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_subject_changes_state_next_attempt_at')
    op.drop_table('subject_changes')
