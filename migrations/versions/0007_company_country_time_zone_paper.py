"""company country, time zone and paper size

Issue 13: the company's country (ISO 3166-1 alpha-2; national phone numbers
are read with it, SPEC §16 names it ``country``), its time zone (times are
shown in it) and the paper size of its documents (A4 or Letter). Existing
installations keep what they had: no country, UTC, A4.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country', sa.String(length=2), server_default='', nullable=False))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), server_default='UTC', nullable=False))
        batch_op.add_column(sa.Column('paper_size', sa.String(length=10), server_default='A4', nullable=False))
        batch_op.create_check_constraint('paper_size', "paper_size IN ('A4', 'Letter')")


def downgrade():
    with op.batch_alter_table('settings', schema=None) as batch_op:
        batch_op.drop_constraint('paper_size', type_='check')
        batch_op.drop_column('paper_size')
        batch_op.drop_column('time_zone')
        batch_op.drop_column('country')
