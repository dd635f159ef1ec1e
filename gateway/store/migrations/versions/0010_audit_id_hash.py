"""audit_log.subject_hash: the keyed hash (HMAC) of an ID number the entry is about, so the
log keeps ID numbers masked only and an operator can still search by the number. (Issue 14:
the signed audit checkpoints live in a file outside the database, not in a table.)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 19:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log') as batch:
        batch.add_column(sa.Column('subject_hash', sa.String(length=64), nullable=True))
        batch.create_index('ix_audit_log_subject_hash_seq', ['subject_hash', 'seq'])


def downgrade() -> None:
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_index('ix_audit_log_subject_hash_seq')
        batch.drop_column('subject_hash')
