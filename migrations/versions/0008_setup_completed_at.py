"""first-run setup: when the company setup was completed

Issue 13 item 6: a new install asks an admin for the company name, country,
currency and time zone once. ``setup_completed_at`` stays NULL until then;
existing installations get NULL too, so an admin confirms the new country and
time zone settings once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa

import shared.db


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("setup_completed_at", shared.db.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.drop_column("setup_completed_at")
