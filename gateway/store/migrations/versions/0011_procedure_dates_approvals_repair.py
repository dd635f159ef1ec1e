"""The listing procedure (issue 12, rules 3-6): the day each step really happened
(list_entry_events.happened_on) and the subjects' credit-repair applications (repair_applications);
the approvals of each level are events of list_entry_events (action `approve`)

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
    op.create_table(
        'repair_applications',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('uid', sa.String(40), nullable=False, unique=True),
        sa.Column('subject_id', sa.Integer(), sa.ForeignKey('subjects.id'), nullable=False),
        sa.Column('record_uid', sa.String(40), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('applied_on', sa.Date(), nullable=False),
        sa.Column('earliest_on', sa.Date(), nullable=False),
        sa.Column('applied_by', sa.String(128), nullable=False),
        sa.Column('decided_on', sa.Date()),
        sa.Column('decided_by', sa.String(128)),
        sa.Column('note', sa.Text()),
        sa.Column('decision_note', sa.Text()),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_repair_applications_subject_id', 'repair_applications', ['subject_id'])
    op.create_index('ix_repair_applications_record_uid', 'repair_applications', ['record_uid'])


def downgrade() -> None:
    op.drop_table('repair_applications')
    with op.batch_alter_table('list_entry_events') as batch:
        batch.drop_column('happened_on')
