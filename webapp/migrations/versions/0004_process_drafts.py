"""process drafts: the editor's unsaved work, per process owner and model

Revision ID: 0004_process_drafts
Revises: 0003
Create Date: 2026-12-02 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_process_drafts'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('process_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('process_key', sa.String(length=110), nullable=False),
    sa.Column('xml', sa.Text(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username', 'process_key')
    )


def downgrade():
    op.drop_table('process_drafts')
