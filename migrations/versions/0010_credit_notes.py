"""credit notes, client credit and refunds

SPEC §11 (issue 14): ``credit_notes`` and their items with their own gapless
series (``settings.credit_note_number_format``), the client credit ledger
(``credit_movements``) with a balance row per client and currency
(``client_credits``), ``refunds``; ``invoices.amount_credited`` (0 for every
existing invoice, so balances and states stay as they were) and the
``credited`` state; the same figure in ``invoice_rollups``; queue rows of kind
``credit_note``. The CHECK lists are frozen copies: this migration must keep
meaning what it meant.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 19:50:00.000000

"""

from alembic import op
import sqlalchemy as sa
import shared.db


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD_STATUS = "status IN ('draft', 'open', 'partially_paid', 'paid', 'void')"
NEW_STATUS = "status IN ('draft', 'open', 'partially_paid', 'paid', 'void', 'credited')"
OLD_KIND = "kind IN ('invoice', 'receipt', 'reminder', 'statement')"
NEW_KIND = "kind IN ('invoice', 'receipt', 'reminder', 'statement', 'credit_note')"
METHODS = "method IN ('cash', 'bank_transfer', 'card', 'online', 'cheque', 'mobile_money')"


def upgrade():
    op.create_table(
        "credit_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tax_rounding", sa.String(length=10), nullable=False),
        sa.Column("subtotal", shared.db.Fixed4(), nullable=False),
        sa.Column("tax_total", shared.db.Fixed4(), nullable=False),
        sa.Column("total", shared.db.Fixed4(), nullable=False),
        sa.Column("applied", shared.db.Fixed4(), nullable=False),
        sa.Column("to_credit", shared.db.Fixed4(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("subtotal >= 0 AND tax_total >= 0 AND total > 0", name=op.f("ck_credit_notes_totals")),
        sa.CheckConstraint(
            "applied >= 0 AND to_credit >= 0 AND applied + to_credit = total", name=op.f("ck_credit_notes_split")
        ),
        sa.CheckConstraint("tax_rounding IN ('line', 'document')", name=op.f("ck_credit_notes_tax_rounding")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_credit_notes_client_id_clients"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_credit_notes_invoice_id_invoices"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_notes")),
        sa.UniqueConstraint("number", name=op.f("uq_credit_notes_number")),
    )
    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        batch_op.create_index("ix_credit_notes_invoice_id", ["invoice_id"], unique=False)
        batch_op.create_index("ix_credit_notes_client_id", ["client_id"], unique=False)
        batch_op.create_index("ix_credit_notes_currency_issue_date", ["currency", "issue_date"], unique=False)

    op.create_table(
        "credit_note_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_note_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("quantity", shared.db.Fixed4(), nullable=False),
        sa.Column("unit_price", shared.db.Fixed4(), nullable=False),
        sa.Column("tax_rate", shared.db.Fixed4(), nullable=False),
        sa.Column("amount", shared.db.Fixed4(), nullable=False),
        sa.Column("tax", shared.db.Fixed4(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_credit_note_items_quantity_positive")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_credit_note_items_unit_price_not_negative")),
        sa.CheckConstraint("tax_rate >= 0", name=op.f("ck_credit_note_items_tax_rate_not_negative")),
        sa.CheckConstraint("amount >= 0 AND tax >= 0", name=op.f("ck_credit_note_items_amounts_not_negative")),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["credit_notes.id"],
            name=op.f("fk_credit_note_items_credit_note_id_credit_notes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_note_items")),
        sa.UniqueConstraint("credit_note_id", "position", name="uq_credit_note_items_position"),
    )

    op.create_table(
        "client_credits",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", shared.db.Fixed4(), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_client_credits_balance_not_negative")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_client_credits_client_id_clients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("client_id", "currency", name=op.f("pk_client_credits")),
    )

    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", shared.db.Fixed4(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("refunded_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_amount_positive")),
        sa.CheckConstraint(METHODS, name=op.f("ck_refunds_method")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_refunds_client_id_clients"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index("ix_refunds_client_id", ["client_id"], unique=False)
        batch_op.create_index("ix_refunds_currency_refunded_on", ["currency", "refunded_on"], unique=False)

    op.create_table(
        "credit_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", shared.db.Fixed4(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("credit_note_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('credit_note', 'overpayment', 'application', 'refund')", name=op.f("ck_credit_movements_kind")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_credit_movements_amount_positive")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_credit_movements_client_id_clients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_credit_movements_invoice_id_invoices"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["credit_notes.id"],
            name=op.f("fk_credit_movements_credit_note_id_credit_notes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_credit_movements_payment_id_payments"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_credit_movements_refund_id_refunds"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_movements")),
    )
    with op.batch_alter_table("credit_movements", schema=None) as batch_op:
        batch_op.create_index("ix_credit_movements_client_id_currency", ["client_id", "currency"], unique=False)
        batch_op.create_index("ix_credit_movements_invoice_id", ["invoice_id"], unique=False)

    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amount_credited", shared.db.Fixed4(), server_default="0", nullable=False))
        batch_op.drop_constraint(op.f("ck_invoices_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_invoices_status"), NEW_STATUS)
        batch_op.create_check_constraint(
            op.f("ck_invoices_amount_credited_in_range"),
            "amount_credited >= 0 AND amount_paid + amount_credited <= total",
        )

    with op.batch_alter_table("invoice_rollups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amount_credited", shared.db.Fixed4(), server_default="0", nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_invoice_rollups_amount_credited_not_negative"), "amount_credited >= 0"
        )

    with op.batch_alter_table("email_queue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credit_note_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_email_queue_credit_note_id_credit_notes"),
            "credit_notes",
            ["credit_note_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.drop_constraint(op.f("ck_email_queue_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_email_queue_kind"), NEW_KIND)

    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "credit_note_number_format", sa.String(length=60), server_default="CN-{year}-{seq:05d}", nullable=False
            )
        )


def downgrade():
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.drop_column("credit_note_number_format")
    op.execute("DELETE FROM email_queue WHERE kind = 'credit_note'")
    with op.batch_alter_table("email_queue", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_email_queue_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_email_queue_kind"), OLD_KIND)
        batch_op.drop_constraint(op.f("fk_email_queue_credit_note_id_credit_notes"), type_="foreignkey")
        batch_op.drop_column("credit_note_id")
    with op.batch_alter_table("invoice_rollups", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_invoice_rollups_amount_credited_not_negative"), type_="check")
        batch_op.drop_column("amount_credited")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_invoices_amount_credited_in_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_invoices_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_invoices_status"), OLD_STATUS)
        batch_op.drop_column("amount_credited")
    op.drop_table("credit_movements")
    op.drop_table("refunds")
    op.drop_table("client_credits")
    op.drop_table("credit_note_items")
    op.drop_table("credit_notes")
