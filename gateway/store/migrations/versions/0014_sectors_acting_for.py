"""Listing procedure, second part (issue 12): the sector of an agency and of a subject (which
publication deadlines apply, docs/policy.md §8), `acting_for` on a step (an operator
answering an objection for the providing agency, 谁提供、谁负责, §6), and `star_steps` (after two
star-less years: rectification by a deadline, then 停产整顿, then closure, `003` §七)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:40:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

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
    op.create_table(
        'star_steps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uid', sa.String(length=40), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('step', sa.String(length=16), nullable=False),
        sa.Column('decided_on', sa.Date(), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('basis', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=True),
        sa.Column('actor', sa.String(length=128), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_star_steps_subject_id_subjects'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_star_steps')),
        sa.UniqueConstraint('uid', name=op.f('uq_star_steps_uid')),
    )
    op.create_index(op.f('ix_star_steps_subject_id'), 'star_steps', ['subject_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_star_steps_subject_id'), table_name='star_steps')
    op.drop_table('star_steps')
    with op.batch_alter_table('list_entry_events') as batch:
        batch.drop_column('acting_for')
    with op.batch_alter_table('subjects') as batch:
        batch.drop_column('sector')
    with op.batch_alter_table('agencies') as batch:
        batch.drop_column('sector')
