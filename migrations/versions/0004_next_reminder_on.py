"""invoice next_reminder_on

``invoices.next_reminder_on``: the day the reminder sweep (shared/reminders.py)
must next look at an invoice; NULL means "not worked out yet" and
9999-12-31 means "every stage is done". A partial index over live invoices
lets the sweep read only the invoices that are due, instead of every open
overdue invoice. Existing rows start NULL, so the first sweep after the
upgrade works them all out once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LIVE = sa.text("status IN ('open', 'partially_paid')")


def upgrade():
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_reminder_on", sa.Date(), nullable=True))
        batch_op.create_index(
            "ix_invoices_live_next_reminder_on",
            ["next_reminder_on"],
            unique=False,
            postgresql_where=LIVE,
            sqlite_where=LIVE,
        )


def downgrade():
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_live_next_reminder_on")
        batch_op.drop_column("next_reminder_on")
