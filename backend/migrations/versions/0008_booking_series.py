"""repeat visits: the series a booking belongs to (a discharge order's frequency)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 13:20:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series', sa.String(length=30), nullable=True))
        batch_op.create_index(batch_op.f('ix_bookings_series'), ['series'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_series'))
        batch_op.drop_column('series')
