"""added signers: 加签 / 委派 groups on a task, and the added approvers' task rows

Revision ID: 0006_added_signers
Revises: 0005_task_actionability
Create Date: 2026-12-02 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_added_signers'
down_revision = '0005_task_actionability'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('rule', sa.String(length=10), nullable=False),
    sa.Column('added_by', sa.String(length=60), nullable=False),
    sa.Column('signers', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('held_values', sa.JSON(), nullable=True),
    sa.Column('held_by', sa.String(length=60), nullable=True),
    sa.Column('held_for', sa.String(length=60), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_sign_groups_instance_id'), 'sign_groups', ['instance_id'], unique=False)
    op.create_index(op.f('ix_sign_groups_task_id'), 'sign_groups', ['task_id'], unique=False)
    with op.batch_alter_table('human_tasks') as batch_op:
        batch_op.add_column(sa.Column('sign_group_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_human_tasks_sign_group_id'), ['sign_group_id'], unique=False)
        batch_op.create_foreign_key('fk_human_tasks_sign_group_id', 'sign_groups', ['sign_group_id'], ['id'],
                                    ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('human_tasks') as batch_op:
        batch_op.drop_constraint('fk_human_tasks_sign_group_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_human_tasks_sign_group_id'))
        batch_op.drop_column('sign_group_id')
    op.drop_index(op.f('ix_sign_groups_task_id'), table_name='sign_groups')
    op.drop_index(op.f('ix_sign_groups_instance_id'), table_name='sign_groups')
    op.drop_table('sign_groups')
