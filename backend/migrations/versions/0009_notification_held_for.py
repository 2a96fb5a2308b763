"""a turn's replies held for WeChat's passive reply name the message they answer in a column

The passive reply settles them with one UPDATE on ``held_for`` instead of decrypting and
rewriting every pending payload of the family. Rows held while this migration runs (a process
died between a turn's commit and its passive reply) carry their hold only in the payload: they
are at most 20 seconds old and are simply sent by the outbox when their hold ends, like the
replies of any turn no passive reply answered (a WeChat retry answered passively within those
seconds is not settled against them, so that family may read the answer twice).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 16:30:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_for', sa.String(length=100), nullable=True))
        batch_op.create_index('ix_notifications_held_for', ['held_for', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_held_for')
        batch_op.drop_column('held_for')
