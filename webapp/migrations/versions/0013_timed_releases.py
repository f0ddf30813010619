"""timed releases (定时发布): the series table; instances get a joint unit and a parent instance

Revision ID: 0013_timed_releases
Revises: 0012_performance_indexes
Create Date: 2026-12-02 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_timed_releases'
down_revision = '0012_performance_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joint_unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('parent_instance_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_instances_joint_unit_id_units', 'units', ['joint_unit_id'], ['id'])
        batch_op.create_foreign_key('fk_instances_parent_instance_id_instances', 'instances',
                                    ['parent_instance_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_instances_parent_instance_id'), ['parent_instance_id'], unique=False)

    op.create_table('timed_release_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=200), nullable=False),
    sa.Column('hq_unit_id', sa.Integer(), nullable=False),
    sa.Column('release_unit_id', sa.Integer(), nullable=False),
    sa.Column('cadence', sa.String(length=20), nullable=False),
    sa.Column('times', sa.JSON(), nullable=False),
    sa.Column('interval_hours', sa.Integer(), nullable=True),
    sa.Column('anchor_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_slot_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_slot_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rounds_started', sa.Integer(), nullable=False),
    sa.Column('slots_missed', sa.Integer(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hq_unit_id'], ['units.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['release_unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id')
    )
    with op.batch_alter_table('timed_release_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timed_release_series_next_slot_at'), ['next_slot_at'], unique=False)


def downgrade():
    with op.batch_alter_table('timed_release_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timed_release_series_next_slot_at'))
    op.drop_table('timed_release_series')
    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instances_parent_instance_id'))
        batch_op.drop_constraint('fk_instances_parent_instance_id_instances', type_='foreignkey')
        batch_op.drop_constraint('fk_instances_joint_unit_id_units', type_='foreignkey')
        batch_op.drop_column('parent_instance_id')
        batch_op.drop_column('joint_unit_id')
