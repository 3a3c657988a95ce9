"""ledger events indexed by ticket

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 15:55:00

History counts a ticket's reopenings and leaves a ticket's own events out of
the customer's earlier deflections; both filter ledger_events by ticket_id.
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_events_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ledger_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_events_ticket_id'))
