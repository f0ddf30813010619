"""worker: escalation of late tasks, worker heartbeats

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('worker_heartbeats',
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_beat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('passes', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')

    op.drop_table('worker_heartbeats')
