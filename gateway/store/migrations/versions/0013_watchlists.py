"""Watchlists (issue 16): watchlists, their subjects and their change feed (watch_changes);
the exchange-database destination needs no table of the gateway's own

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import gateway.store.types
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
UTC = gateway.store.types.UTCDateTime(timezone=True)
BIGINT = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('watchlists',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sector', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('destination', sa.String(length=64), nullable=True),
    sa.Column('subject_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.Column('last_digest_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['access_partners.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_watchlists_partner_id'), 'watchlists', ['partner_id'], unique=False)
    op.create_table('watchlist_subjects',
    sa.Column('watchlist_id', sa.String(length=40), nullable=False),
    sa.Column('subject_key', sa.String(length=64), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('added_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['watchlist_id'], ['watchlists.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('watchlist_id', 'subject_key')
    )
    op.create_index('ix_watchlist_subjects_key', 'watchlist_subjects', ['subject_key'], unique=False)
    op.create_table('watch_changes',
    sa.Column('seq', BIGINT, autoincrement=True, nullable=False),
    sa.Column('watchlist_id', sa.String(length=40), nullable=False),
    sa.Column('subject_key', sa.String(length=64), nullable=False),
    sa.Column('standing_version', sa.Integer(), nullable=False),
    sa.Column('changed_at', UTC, nullable=False),
    sa.Column('body', JSON, nullable=False),
    sa.Column('cursor', BIGINT, nullable=True),
    sa.Column('bulletin_id', sa.String(length=64), nullable=True),
    sa.Column('dispatched_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['watchlist_id'], ['watchlists.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('cursor'),
    sa.UniqueConstraint('watchlist_id', 'subject_key', 'standing_version', name='uq_watch_changes_version')
    )
    op.create_index('ix_watch_changes_list_cursor', 'watch_changes', ['watchlist_id', 'cursor'], unique=False)
    op.create_index('ix_watch_changes_undispatched', 'watch_changes', ['cursor', 'seq'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_watch_changes_undispatched', table_name='watch_changes')
    op.drop_index('ix_watch_changes_list_cursor', table_name='watch_changes')
    op.drop_table('watch_changes')
    op.drop_index('ix_watchlist_subjects_key', table_name='watchlist_subjects')
    op.drop_table('watchlist_subjects')
    op.drop_index(op.f('ix_watchlists_partner_id'), table_name='watchlists')
    op.drop_table('watchlists')
