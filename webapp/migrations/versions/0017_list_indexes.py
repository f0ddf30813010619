"""list indexes: the supervisors' list newest first, and the steps that have ever been open

Revision ID: 0017_list_indexes
Revises: 0016_annual_evaluation
Create Date: 2026-12-04 12:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017_list_indexes'
down_revision = '0016_annual_evaluation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_instances_started', 'instances', ['started_at', 'id'], unique=False)
    op.create_index('ix_human_tasks_step_name', 'human_tasks', ['bpmn_id', 'name'], unique=False)


def downgrade():
    op.drop_index('ix_human_tasks_step_name', table_name='human_tasks')
    op.drop_index('ix_instances_started', table_name='instances')
