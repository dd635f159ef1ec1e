"""intake: agencies, subjects, identifiers, names, records, idempotency

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 02:48:03.155913
"""
from alembic import op
import sqlalchemy as sa
import gateway.store.types
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('created_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('code', name=op.f('uq_agencies_code'))
    )
    op.create_table('subjects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.Column('region', sa.String(length=6), nullable=True),
    sa.Column('display_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subjects')),
    sa.UniqueConstraint('key', name=op.f('uq_subjects_key')),
    sa.UniqueConstraint('uscc', name=op.f('uq_subjects_uscc'))
    )
    op.create_table('idempotency_keys',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_idempotency_keys_agency_id_agencies')),
    sa.PrimaryKeyConstraint('agency_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('source_record_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('supersedes_uid', sa.String(length=40), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=True),
    sa.Column('event_date', sa.Date(), nullable=True),
    sa.Column('publish_by', sa.Date(), nullable=True),
    sa.Column('publish_by_estimated', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('batch_id', sa.String(length=40), nullable=True),
    sa.Column('received_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_records_agency_id_agencies')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_records_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records')),
    sa.UniqueConstraint('agency_id', 'source_record_id', 'version', name=op.f('uq_records_agency_id_source_record_id_version')),
    sa.UniqueConstraint('uid', name=op.f('uq_records_uid'))
    )
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.create_index('ix_records_agency_source_status', ['agency_id', 'source_record_id', 'status'], unique=False)
        batch_op.create_index('ix_records_publish_by', ['status', 'publish_by'], unique=False)
        batch_op.create_index('ix_records_subject_status_kind', ['subject_id', 'status', 'kind'], unique=False)

    op.create_table('subject_identifiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('scheme', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('first_seen_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_subject_identifiers_subject_id_subjects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_identifiers')),
    sa.UniqueConstraint('scheme', 'value', name=op.f('uq_subject_identifiers_scheme_value'))
    )
    with op.batch_alter_table('subject_identifiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subject_identifiers_subject_id'), ['subject_id'], unique=False)

    op.create_table('subject_names',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=False),
    sa.Column('first_seen_at', gateway.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_subject_names_subject_id_subjects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_names')),
    sa.UniqueConstraint('subject_id', 'name', name=op.f('uq_subject_names_subject_id_name'))
    )


def downgrade() -> None:
    op.drop_table('subject_names')
    with op.batch_alter_table('subject_identifiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subject_identifiers_subject_id'))

    op.drop_table('subject_identifiers')
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_index('ix_records_subject_status_kind')
        batch_op.drop_index('ix_records_publish_by')
        batch_op.drop_index('ix_records_agency_source_status')

    op.drop_table('records')
    op.drop_table('idempotency_keys')
    op.drop_table('subjects')
    op.drop_table('agencies')
