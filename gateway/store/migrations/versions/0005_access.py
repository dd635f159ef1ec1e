"""access: partners and their credentials (access_partners, access_credentials), the
hash-chained audit log and its chain head (audit_log, audit_chain), stored eligibility
reports (eligibility_reports)

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-22 03:15:13.341318
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gateway.store.types

revision = '0005'
down_revision = '0001'
branch_labels = ('access',)
depends_on = None


def upgrade() -> None:
    op.create_table('access_partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=False),
    sa.Column('sector', sa.String(length=16), nullable=False),
    sa.Column('agency_code', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rate_per_second', sa.Integer(), nullable=True),
    sa.Column('created_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', gateway.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_partners')),
    sa.UniqueConstraint('uscc', name=op.f('uq_access_partners_uscc'))
    )
    op.create_table('audit_chain',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('head_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('pruned_through_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('pruned_hash', sa.String(length=64), nullable=False),
    sa.Column('pruned_at', gateway.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain'))
    )
    # the chain head starts at the genesis hash; appends lock this row
    op.bulk_insert(
        sa.table('audit_chain', sa.column('id', sa.Integer()), sa.column('head_seq', sa.Integer()),
                 sa.column('head_hash', sa.String()), sa.column('pruned_through_seq', sa.Integer()),
                 sa.column('pruned_hash', sa.String())),
        [{'id': 1, 'head_seq': 0, 'head_hash': '0' * 64, 'pruned_through_seq': 0, 'pruned_hash': '0' * 64}],
    )
    op.create_table('audit_log',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('organisation', sa.String(length=18), nullable=True),
    sa.Column('sector', sa.String(length=16), nullable=True),
    sa.Column('action', sa.String(length=120), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=True),
    sa.Column('subject', sa.String(length=80), nullable=True),
    sa.Column('outcome', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_actor_seq', ['actor', 'seq'], unique=False)
        batch_op.create_index('ix_audit_log_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_log_organisation_seq', ['organisation', 'seq'], unique=False)
        batch_op.create_index('ix_audit_log_subject_seq', ['subject', 'seq'], unique=False)

    op.create_table('access_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('created_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', gateway.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rotated_to', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['access_partners.id'], name=op.f('fk_access_credentials_partner_id_access_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_credentials')),
    sa.UniqueConstraint('key_id', name=op.f('uq_access_credentials_key_id')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_access_credentials_secret_hash'))
    )
    with op.batch_alter_table('access_credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_credentials_partner_id'), ['partner_id'], unique=False)

    op.create_table('eligibility_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.String(length=40), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('key_id', sa.String(length=32), nullable=True),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['access_partners.id'], name=op.f('fk_eligibility_reports_partner_id_access_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eligibility_reports')),
    sa.UniqueConstraint('report_id', name=op.f('uq_eligibility_reports_report_id'))
    )


def downgrade() -> None:
    op.drop_table('eligibility_reports')
    with op.batch_alter_table('access_credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_credentials_partner_id'))

    op.drop_table('access_credentials')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_subject_seq')
        batch_op.drop_index('ix_audit_log_organisation_seq')
        batch_op.drop_index('ix_audit_log_at')
        batch_op.drop_index('ix_audit_log_actor_seq')

    op.drop_table('audit_log')
    op.drop_table('audit_chain')
    op.drop_table('access_partners')
