"""staff sessions kept on the server

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'staff_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('csrf', sa.String(length=64), nullable=False),
        sa.Column('created_at', backend.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', backend.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ended_at', backend.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_accounts.id'],
                                name=op.f('fk_staff_sessions_staff_id_staff_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_staff_sessions_token_hash')),
    )
    op.create_index(op.f('ix_staff_sessions_staff_id'), 'staff_sessions', ['staff_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_staff_sessions_staff_id'), table_name='staff_sessions')
    op.drop_table('staff_sessions')
