"""e-invoice fields (SPEC §16)

Issue 18: the company and clients gain a VAT id and a structured address
(clients also a country); invoice lines gain a unit, an EN 16931 tax category
and an exemption reason; settings gain ``einvoice_format``. Existing clients get
no country (an e-invoice for them is refused, naming the field, until someone
sets it); existing lines get unit ``C62`` and category ``S``, or ``Z`` at a 0 % rate.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 19:50:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PARTY = (("vat_id", 30), ("street", 200), ("city", 100), ("postal_code", 20))


def upgrade():
    with op.batch_alter_table("settings", schema=None) as batch_op:
        for name, length in PARTY:
            batch_op.add_column(sa.Column(name, sa.String(length=length), server_default="", nullable=False))
        batch_op.add_column(sa.Column("einvoice_format", sa.String(length=10), server_default="none", nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_settings_einvoice_format"), "einvoice_format IN ('none', 'facturx', 'ubl')"
        )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=2), server_default="", nullable=False))
        for name, length in PARTY:
            batch_op.add_column(sa.Column(name, sa.String(length=length), server_default="", nullable=False))
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(length=3), server_default="C62", nullable=False))
        batch_op.add_column(sa.Column("tax_category", sa.String(length=2), server_default="S", nullable=False))
        batch_op.add_column(sa.Column("tax_exemption_reason", sa.String(length=300), server_default="", nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_invoice_lines_tax_category"), "tax_category IN ('S', 'Z', 'E', 'AE', 'K', 'G')"
        )
    with op.batch_alter_table("credit_note_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(length=3), server_default="C62", nullable=False))
        batch_op.add_column(sa.Column("tax_category", sa.String(length=2), server_default="S", nullable=False))
        batch_op.add_column(sa.Column("tax_exemption_reason", sa.String(length=300), server_default="", nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_credit_note_items_tax_category"), "tax_category IN ('S', 'Z', 'E', 'AE', 'K', 'G')"
        )
    # SPEC §16: the default category is S at a rate above 0, else Z.
    op.execute("UPDATE invoice_lines SET tax_category = 'Z' WHERE tax_rate = 0")
    op.execute("UPDATE credit_note_items SET tax_category = 'Z' WHERE tax_rate = 0")


def downgrade():
    with op.batch_alter_table("credit_note_items", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_credit_note_items_tax_category"), type_="check")
        for name in ("tax_exemption_reason", "tax_category", "unit"):
            batch_op.drop_column(name)
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_invoice_lines_tax_category"), type_="check")
        for name in ("tax_exemption_reason", "tax_category", "unit"):
            batch_op.drop_column(name)
    with op.batch_alter_table("clients", schema=None) as batch_op:
        for name, _ in reversed(PARTY):
            batch_op.drop_column(name)
        batch_op.drop_column("country")
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_settings_einvoice_format"), type_="check")
        batch_op.drop_column("einvoice_format")
        for name, _ in reversed(PARTY):
            batch_op.drop_column(name)
