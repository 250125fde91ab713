"""report indexes

Indexes for the dashboard and reports (shared/reports.py), which always ask
for one currency at a time: payments by date received, approved expenses by
date, invoices by issue date (tax), and live invoices by due date (aging).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:36:46.014956

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.create_index('ix_expenses_currency_status_expense_date', ['currency', 'status', 'expense_date'], unique=False)

    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index('ix_invoices_currency_issue_date', ['currency', 'issue_date'], unique=False)
        batch_op.create_index('ix_invoices_status_currency_due_date', ['status', 'currency', 'due_date'], unique=False)

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_currency_paid_on', ['currency', 'paid_on'], unique=False)


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_currency_paid_on')

    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_invoices_status_currency_due_date')
        batch_op.drop_index('ix_invoices_currency_issue_date')

    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.drop_index('ix_expenses_currency_status_expense_date')
