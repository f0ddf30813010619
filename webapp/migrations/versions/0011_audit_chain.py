"""audit chain: each audit row carries the previous row's hash; the instance its newest; rate-limit counters

Revision ID: 0011_audit_chain
Revises: 0004_process_drafts
Create Date: 2026-12-02 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from engine.models import UTCDateTime
from engine.workflow.audit_chain import HASHED_COLUMNS, entry_hash


# revision identifiers, used by Alembic.
revision = '0011_audit_chain'
down_revision = '0008_carbon_copies'
branch_labels = None
depends_on = None

# The tables as this revision knows them, so later schema changes cannot break the back-fill.
_audit = sa.table(
    'audit_entries', sa.column('id', sa.Integer), sa.column('instance_id', sa.Integer), sa.column('at', UTCDateTime()),
    sa.column('actor', sa.String), sa.column('action', sa.String), sa.column('task_id', sa.String),
    sa.column('task_name', sa.String), sa.column('bpmn_id', sa.String), sa.column('comment', sa.Text),
    sa.column('data_changed', sa.JSON), sa.column('on_behalf_of', sa.String),
    sa.column('prev_hash', sa.String), sa.column('row_hash', sa.String),
)
_instances = sa.table('instances', sa.column('id', sa.Integer), sa.column('audit_head', sa.String))


def upgrade():
    # Plain ADD COLUMN on both backends: a batch rebuild of `instances` on SQLite would cascade-delete its rows' trail.
    op.add_column('audit_entries', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_entries', sa.Column('row_hash', sa.String(length=64), nullable=True))
    op.add_column('instances', sa.Column('audit_head', sa.String(length=64), nullable=True))
    op.create_table('rate_limit_hits',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('window_start', sa.Integer(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start')
    )
    _chain_existing_rows(op.get_bind())


def _chain_existing_rows(conn):
    """Hash the trail as it stands, instance by instance in id order: from here on, changes show."""
    heads = {}
    for row in conn.execute(sa.select(_audit).order_by(_audit.c.instance_id, _audit.c.id)).mappings().all():
        prev = heads.get(row['instance_id'])
        digest = entry_hash({name: row[name] for name in HASHED_COLUMNS}, prev)
        conn.execute(_audit.update().where(_audit.c.id == row['id']).values(prev_hash=prev, row_hash=digest))
        heads[row['instance_id']] = digest
    for instance_id, head in heads.items():
        conn.execute(_instances.update().where(_instances.c.id == instance_id).values(audit_head=head))


def downgrade():
    op.drop_table('rate_limit_hits')
    # SQLite 3.35+ and PostgreSQL drop a column in place; Alembic's batch mode would rebuild `instances` on SQLite,
    # and the rebuild's DROP TABLE cascades to every application's tasks, attachments and audit trail.
    for table, column in (('instances', 'audit_head'), ('audit_entries', 'row_hash'), ('audit_entries', 'prev_hash')):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
