"""rollups

Running totals for the dashboard and summary reports (shared/rollups.py):
``invoice_rollups`` per (currency, status, due date) and ``payment_rollups``
per (currency, day received), backfilled here with the same GROUP BY as
``shared.models.rollups.rebuild_rollups`` (a frozen copy: this migration must keep
meaning what it meant). Drafts, paid and void invoices share the due date
0001-01-01. Also a partial index over live invoices by (currency, due date,
id) so the dashboard's overdue list reads its first rows in index order.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import shared.db


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

LIVE = sa.text("status IN ('open', 'partially_paid')")

BACKFILL = (
    "INSERT INTO invoice_rollups (currency, status, due_date, invoice_count, total, amount_paid)"
    " SELECT currency, status,"
    " CASE WHEN status IN ('open', 'partially_paid') THEN due_date ELSE '0001-01-01' END,"
    " count(*), sum(total), sum(amount_paid)"
    " FROM invoices WHERE status <> 'draft' GROUP BY 1, 2, 3",
    "INSERT INTO payment_rollups (currency, paid_on, payment_count, amount)"
    " SELECT currency, paid_on, count(*), sum(amount) FROM payments WHERE voided_at IS NULL GROUP BY 1, 2",
)


def upgrade():
    op.create_table('invoice_rollups',
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('invoice_count', sa.Integer(), nullable=False),
    sa.Column('total', shared.db.Fixed4(), nullable=False),
    sa.Column('amount_paid', shared.db.Fixed4(), nullable=False),
    sa.CheckConstraint('invoice_count >= 0 AND total >= 0 AND amount_paid >= 0', name=op.f('ck_invoice_rollups_not_negative')),
    sa.PrimaryKeyConstraint('currency', 'status', 'due_date', name=op.f('pk_invoice_rollups'))
    )
    op.create_table('payment_rollups',
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('payment_count', sa.Integer(), nullable=False),
    sa.Column('amount', shared.db.Fixed4(), nullable=False),
    sa.CheckConstraint('payment_count >= 0 AND amount >= 0', name=op.f('ck_payment_rollups_not_negative')),
    sa.PrimaryKeyConstraint('currency', 'paid_on', name=op.f('pk_payment_rollups'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index(
            'ix_invoices_live_currency_due_date',
            ['currency', 'due_date', 'id'],
            unique=False,
            postgresql_where=LIVE,
            sqlite_where=LIVE,
        )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade():
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_invoices_live_currency_due_date')
    op.drop_table('payment_rollups')
    op.drop_table('invoice_rollups')
