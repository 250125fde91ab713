"""online payments

SPEC §14: ``stripe_events`` keeps each Stripe event that recorded money, its
id unique so a redelivery changes nothing; the settings gain the bank details
(IBAN, BIC, account holder) for transfers and the EPC payment QR. Existing
rows are untouched; the new settings start empty.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 19:50:00.000000

"""

from alembic import op
import sqlalchemy as sa

from shared.db import Fixed4, UTCDateTime


# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("payment_intent", sa.String(length=255), nullable=False),
        sa.Column("amount", Fixed4(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("to_credit", Fixed4(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_stripe_events_amount_positive")),
        sa.CheckConstraint("to_credit >= 0 AND to_credit <= amount", name=op.f("ck_stripe_events_to_credit_in_range")),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_stripe_events_invoice_id_invoices"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_stripe_events_payment_id_payments"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_stripe_events_event_id")),
    )
    with op.batch_alter_table("stripe_events", schema=None) as batch_op:
        batch_op.create_index("ix_stripe_events_invoice_id", ["invoice_id"], unique=False)
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("iban", sa.String(length=34), server_default="", nullable=False))
        batch_op.add_column(sa.Column("bic", sa.String(length=11), server_default="", nullable=False))
        batch_op.add_column(sa.Column("account_holder", sa.String(length=70), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.drop_column("account_holder")
        batch_op.drop_column("bic")
        batch_op.drop_column("iban")
    with op.batch_alter_table("stripe_events", schema=None) as batch_op:
        batch_op.drop_index("ix_stripe_events_invoice_id")
    op.drop_table("stripe_events")
