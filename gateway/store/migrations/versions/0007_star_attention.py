"""decisions.star_attention: the subjects the sweep's star report lists (key monitoring,
rectification ordered), flagged and indexed instead of read from every decision's JSON

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 16:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('decisions') as batch:
        batch.add_column(sa.Column('star_attention', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.create_index('ix_decisions_profile_star_attention', ['profile', 'star_attention'])
    body = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    decisions = sa.table('decisions', sa.column('body', body), sa.column('star_attention', sa.Boolean()))
    stars = decisions.c.body['stars']
    op.execute(decisions.update().where(sa.or_(stars['key_monitoring'].as_boolean().is_(True),
                                               stars['rectification_ordered'].as_boolean().is_(True)))
               .values(star_attention=True))


def downgrade() -> None:
    with op.batch_alter_table('decisions') as batch:
        batch.drop_index('ix_decisions_profile_star_attention')
        batch.drop_column('star_attention')
