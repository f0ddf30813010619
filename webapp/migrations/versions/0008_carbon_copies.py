"""carbon copies: 抄送 of an application to people for information, with 已阅 receipts

Revision ID: 0008_carbon_copies
Revises: 0007_notification_params
Create Date: 2026-12-02 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_carbon_copies'
down_revision = '0007_notification_params'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('carbon_copies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=60), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('task_name', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('via_role', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('carbon_copies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carbon_copies_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_carbon_copies_recipient', ['recipient_id', 'read_at'], unique=False)


def downgrade():
    with op.batch_alter_table('carbon_copies', schema=None) as batch_op:
        batch_op.drop_index('ix_carbon_copies_recipient')
        batch_op.drop_index(batch_op.f('ix_carbon_copies_instance_id'))
    op.drop_table('carbon_copies')
