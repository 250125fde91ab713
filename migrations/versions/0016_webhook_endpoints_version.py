"""webhook endpoints version

SPEC §17 (fewer round trips): ``settings.webhook_endpoints_version`` takes a
new random value whenever a webhook endpoint is added, changed or removed, so
each process can keep the enabled endpoints in memory and still see a change
made by another process at once (the settings row is read anyway). The
existing row gets a random value now.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 23:40:00.000000

"""

import uuid

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("webhook_endpoints_version", sa.String(length=32), server_default="", nullable=False)
        )
    op.execute(sa.text("UPDATE settings SET webhook_endpoints_version = :v").bindparams(v=uuid.uuid4().hex))


def downgrade():
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.drop_column("webhook_endpoints_version")
