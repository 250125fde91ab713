"""sign-in throttle per e-mail and source address; session versions

Issue 12 items 1 and 11: the brake on password guessing moves from the
account (``users.failed_logins``, ``users.locked_until``: counted without a
lock, and anyone could lock anyone out) to ``sign_in_throttle``, counted per
e-mail from one source address and per source address (shared/services/sign_in.py).
Old counts and locks are not carried over: they were per account, the new
ones are per source.

Issue 12 item 3: ``users.session_version`` moves on at sign-out, password
change and deactivation; sessions signed in with an older version are over.
Existing users start at 0; cookies from before carry no version and are
signed out once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import shared.db


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_throttle',
    sa.Column('email_digest', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('expires_at', shared.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('email_digest', 'source', name=op.f('pk_sign_in_throttle'))
    )
    with op.batch_alter_table('sign_in_throttle', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_throttle_expires_at', ['expires_at'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', shared.db.UTCDateTime(), nullable=True))
        batch_op.drop_column('session_version')
    with op.batch_alter_table('sign_in_throttle', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_throttle_expires_at')
    op.drop_table('sign_in_throttle')
