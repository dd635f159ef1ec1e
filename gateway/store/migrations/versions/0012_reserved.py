"""Reserved: incentives, stars, calendars, persons (issue 12, rules); holds the calendar
notices an operator loads for years the official calendar lacks (calendar_notices)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 19:00:00
"""
from alembic import op
import sqlalchemy as sa
import gateway.store.types
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
UTC = gateway.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('calendar_notices',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('body', JSON, nullable=False),
    sa.Column('loaded_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('year')
    )


def downgrade() -> None:
    op.drop_table('calendar_notices')
