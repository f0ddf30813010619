"""task actionability: remember whether a reopened task was sent back (退回) or withdrawn (撤回)

Revision ID: 0005_task_actionability
Revises: 0004_process_drafts
Create Date: 2026-12-02 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_task_actionability'
down_revision = '0004_process_drafts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_back_as', sa.String(length=20), nullable=True))
    # Before this column a withdrawal was told apart by its sender getting the task back; keep that reading.
    op.execute("UPDATE human_tasks SET sent_back_as = CASE WHEN returned_by = assignee THEN 'withdrawn' "
               "ELSE 'returned' END WHERE returned_by IS NOT NULL")


def downgrade():
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_column('sent_back_as')
