"""the hotline's internal notes on a conversation; the family's satisfaction with a hand-off

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 13:40:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.types import EncryptedText, UTCDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'conversation_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel_user_id', sa.Integer(), nullable=False),
        sa.Column('author', sa.String(length=100), nullable=False),
        sa.Column('text', EncryptedText(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['channel_user_id'], ['channel_users.id'],
                                name=op.f('fk_conversation_notes_channel_user_id_channel_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_notes')),
    )
    with op.batch_alter_table('conversation_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_notes_channel_user_id'), ['channel_user_id'], unique=False)
    with op.batch_alter_table('handoff_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('satisfaction', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('rated_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('handoff_requests', schema=None) as batch_op:
        batch_op.drop_column('rated_at')
        batch_op.drop_column('satisfaction')
    with op.batch_alter_table('conversation_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_notes_channel_user_id'))
    op.drop_table('conversation_notes')
