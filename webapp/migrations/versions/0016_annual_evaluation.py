"""annual evaluations: one row per unit and year, so the yearly start runs once however many workers poll

Revision ID: 0016_annual_evaluation
Revises: 0014_emergency_spokespersons
Create Date: 2026-12-02 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_annual_evaluation'
down_revision = '0014_emergency_spokespersons'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('annual_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('year', 'unit_id')
    )
    with op.batch_alter_table('annual_evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annual_evaluations_unit_id'), ['unit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('annual_evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annual_evaluations_unit_id'))

    op.drop_table('annual_evaluations')
