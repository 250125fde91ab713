"""invoice rollups by issue month

SPEC §9 and §17 (the dashboard at 100,000 invoices costs what it costs at
1,000): the dashboard's income chart summed ``invoices.total`` per issue
month over the last twelve months, a scan that grew with the invoices. The
running totals now also carry the issue month (``YYYY-MM``), so the chart
reads them instead. The table holds only derived figures: it is made again
with the new key and counted again from the invoices.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 02:55:00.000000

"""

from alembic import op
import sqlalchemy as sa

import shared.db

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

ISSUE_MONTH = {"postgresql": "to_char(issue_date, 'YYYY-MM')", "sqlite": "strftime('%Y-%m', issue_date)"}


def _create(with_issue_month: bool) -> None:
    key = ["currency", "status", "due_date"] + (["issue_month"] if with_issue_month else [])
    op.create_table(
        "invoice_rollups",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        *([sa.Column("issue_month", sa.String(length=7), nullable=False)] if with_issue_month else []),
        sa.Column("invoice_count", sa.Integer(), nullable=False),
        sa.Column("total", shared.db.Fixed4(), nullable=False),
        sa.Column("amount_paid", shared.db.Fixed4(), nullable=False),
        sa.Column("amount_credited", shared.db.Fixed4(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "invoice_count >= 0 AND total >= 0 AND amount_paid >= 0", name=op.f("ck_invoice_rollups_not_negative")
        ),
        sa.CheckConstraint("amount_credited >= 0", name=op.f("ck_invoice_rollups_amount_credited_not_negative")),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_invoice_rollups")),
    )


def _fill(with_issue_month: bool) -> None:
    month = ISSUE_MONTH[op.get_bind().dialect.name]
    columns = "currency, status, due_date" + (", issue_month" if with_issue_month else "")
    keys = "1, 2, 3" + (", 4" if with_issue_month else "")
    op.execute(
        f"INSERT INTO invoice_rollups ({columns}, invoice_count, total, amount_paid, amount_credited)"
        " SELECT currency, status,"
        " CASE WHEN status IN ('open', 'partially_paid') THEN due_date ELSE '0001-01-01' END"
        + (f", {month}" if with_issue_month else "")
        + ", count(*), sum(total), sum(amount_paid), sum(amount_credited)"
        f" FROM invoices WHERE status <> 'draft' GROUP BY {keys}"
    )


def upgrade():
    op.drop_table("invoice_rollups")
    _create(with_issue_month=True)
    _fill(with_issue_month=True)


def downgrade():
    op.drop_table("invoice_rollups")
    _create(with_issue_month=False)
    _fill(with_issue_month=False)
