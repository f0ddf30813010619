"""performance indexes: the inbox's open-task queue and assignee, the dashboard's open applications, the trail

Revision ID: 0012_performance_indexes
Revises: 0011_audit_chain
Create Date: 2026-12-02 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_performance_indexes'
down_revision = '0011_audit_chain'
branch_labels = None
depends_on = None

OPEN = sa.text('completed_at IS NULL')


def upgrade():
    op.create_index('ix_human_tasks_open_queue', 'human_tasks', ['unit_id', 'due_at', 'created_at'], unique=False,
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index('ix_human_tasks_open_assignee', 'human_tasks', ['assignee'], unique=False,
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index('ix_instances_status_started', 'instances', ['status', 'started_at'], unique=False)
    op.create_index('ix_audit_entries_instance_at', 'audit_entries', ['instance_id', 'at'], unique=False)


def downgrade():
    op.drop_index('ix_audit_entries_instance_at', table_name='audit_entries')
    op.drop_index('ix_instances_status_started', table_name='instances')
    op.drop_index('ix_human_tasks_open_assignee', table_name='human_tasks')
    op.drop_index('ix_human_tasks_open_queue', table_name='human_tasks')
