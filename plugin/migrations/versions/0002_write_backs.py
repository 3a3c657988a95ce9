"""write-backs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 02:26:00.820656
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('write_backs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'event_id')
    )
    with op.batch_alter_table('write_backs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_write_backs_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('write_backs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_write_backs_status'))

    op.drop_table('write_backs')
