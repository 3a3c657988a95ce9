"""alerts sent, training runs, shadow results

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 11:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alerts_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'level')
    )
    with op.batch_alter_table('alerts_sent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_sent_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_sent_ticket_id'), ['ticket_id'], unique=False)
    op.create_table('training_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('feedback_rows', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=100), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('shadow_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('active_version', sa.String(length=100), nullable=False),
    sa.Column('candidate_version', sa.String(length=100), nullable=False),
    sa.Column('active_flags', sa.JSON(), nullable=False),
    sa.Column('candidate_flags', sa.JSON(), nullable=False),
    sa.Column('agree', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['analysis_id'], ['analyses.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('analysis_id')
    )
    with op.batch_alter_table('shadow_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shadow_results_candidate_version'), ['candidate_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_shadow_results_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('shadow_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shadow_results_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_shadow_results_candidate_version'))
    op.drop_table('shadow_results')
    op.drop_table('training_runs')
    with op.batch_alter_table('alerts_sent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_sent_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_alerts_sent_created_at'))
    op.drop_table('alerts_sent')
