"""emergency releases and spokespersons: hour deadlines on task rows, the spokesperson roster (新闻发言人备案)

Revision ID: 0014_emergency_spokespersons
Revises: 0013_timed_releases
Create Date: 2026-12-02 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_emergency_spokespersons'
# Two heads were open when this was written (0007 and 0008 both follow 0004): this one joins them.
down_revision = '0013_timed_releases'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_hours', sa.Integer(), nullable=True))
    op.create_table('spokespersons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('contact', sa.String(length=100), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filed_by', sa.String(length=60), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=60), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('spokespersons', schema=None) as batch_op:
        batch_op.create_index('ix_spokespersons_unit_year', ['unit_id', 'year'], unique=False)


def downgrade():
    with op.batch_alter_table('spokespersons', schema=None) as batch_op:
        batch_op.drop_index('ix_spokespersons_unit_year')
    op.drop_table('spokespersons')
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_column('due_hours')
