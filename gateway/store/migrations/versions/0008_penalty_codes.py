"""Penalty field codes as the credit platforms use them: CF_XZCFJDSWH → CF_WSH (行政处罚决定书文号)
and CF_WFSS → CF_SY (违法事实), in stored records (content hashes re-derived) and in the
publication items not yet sent

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 19:00:00
"""
import hashlib
import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

RENAMES = {'CF_XZCFJDSWH': 'CF_WSH', 'CF_WFSS': 'CF_SY'}


def _doc():
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _content_hash(kind, action, subject_key, data):
    # the same canonical form as gateway.intake.prepare.content_hash (frozen here)
    canonical = json.dumps([kind, action, subject_key, data], sort_keys=True, ensure_ascii=False,
                           separators=(',', ':'))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _renamed(doc, renames):
    if not isinstance(doc, dict) or not any(k in doc for k in renames):
        return None
    return {renames.get(k, k): v for k, v in doc.items()}


def _rename(renames):
    conn = op.get_bind()
    records = sa.table('records', sa.column('id', sa.Integer()), sa.column('kind', sa.String()),
                       sa.column('action', sa.String()), sa.column('subject_id', sa.Integer()),
                       sa.column('content_hash', sa.String()), sa.column('data', _doc()))
    subjects = sa.table('subjects', sa.column('id', sa.Integer()), sa.column('key', sa.String()))
    rows = conn.execute(sa.select(records.c.id, records.c.action, records.c.data, subjects.c.key)
                        .join(subjects, subjects.c.id == records.c.subject_id)
                        .where(records.c.kind == 'penalty')).all()
    for rid, action, data, key in rows:
        new = _renamed(data, renames)
        if new is not None:
            conn.execute(records.update().where(records.c.id == rid).values(
                data=new, content_hash=_content_hash('penalty', action, key, new)))
    items = sa.table('publication_items', sa.column('id', sa.Integer()), sa.column('state', sa.String()),
                     sa.column('fields', _doc()))
    # items already in a bulletin were sent (and signed) as they were
    for iid, fields in conn.execute(sa.select(items.c.id, items.c.fields)
                                    .where(items.c.state != 'batched')).all():
        new = _renamed(fields, renames)
        if new is not None:
            conn.execute(items.update().where(items.c.id == iid).values(fields=new))


def upgrade() -> None:
    _rename(RENAMES)


def downgrade() -> None:
    _rename({new: old for old, new in RENAMES.items()})
