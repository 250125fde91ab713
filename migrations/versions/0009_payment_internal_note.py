"""payment internal note

Issue 13: a payment's ``note`` is printed on the client's receipt; staff get
``internal_note`` for what the client must not see. Existing payments keep
their note on the receipt and start with an empty internal note.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 17:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('internal_note', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('internal_note')
