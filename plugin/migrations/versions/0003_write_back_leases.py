"""write-back leases and history refresh

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 14:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('write_backs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refresh', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('write_backs', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('refresh')
