"""inbox indexes and 常用语: paged inbox queries, a reviewer's saved 审批意见

Revision ID: 0009_inbox_phrases
Revises: 0008_carbon_copies
Create Date: 2026-12-02 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_inbox_phrases'
down_revision = '0008_carbon_copies'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('approval_phrases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username', 'text')
    )
    with op.batch_alter_table('approval_phrases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_phrases_username'), ['username'], unique=False)
    # The inbox's indexes on open tasks are the partial ones of 0012_performance_indexes.


def downgrade():
    with op.batch_alter_table('approval_phrases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_phrases_username'))
    op.drop_table('approval_phrases')
