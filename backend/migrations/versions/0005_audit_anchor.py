"""audit chain anchor

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:55:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_anchor',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.Column('head_id', sa.Integer(), nullable=False),
        sa.Column('head_hash', sa.String(length=64), nullable=False),
        sa.Column('keyed_from', sa.Integer(), nullable=False),
        sa.Column('signature', sa.String(length=64), nullable=False),
        sa.Column('updated_at', backend.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_anchor')),
    )
    # An existing chain (plain SHA-256 hashes) is anchored at its current head, signed with the
    # secret key (``jiahu db upgrade`` and ``jiahu serve`` load it before migrating); entries
    # from here on are keyed.
    bind = op.get_bind()
    count, head_id = bind.execute(sa.text("SELECT count(*), max(id) FROM audit_log")).one()
    if count:
        from backend.crypto import current_vault

        head_hash = bind.execute(sa.text("SELECT entry_hash FROM audit_log WHERE id = :id"),
                                 {"id": head_id}).scalar_one()
        keyed_from = head_id + 1
        signature = current_vault().audit_mac(f"anchor:{count}:{head_id}:{head_hash}:{keyed_from}".encode())
        bind.execute(sa.text(
            "INSERT INTO audit_anchor (id, entries, head_id, head_hash, keyed_from, signature, updated_at) "
            "VALUES (1, :count, :head_id, :head_hash, :keyed_from, :signature, CURRENT_TIMESTAMP)"),
            {"count": count, "head_id": head_id, "head_hash": head_hash, "keyed_from": keyed_from,
             "signature": signature})


def downgrade() -> None:
    op.drop_table('audit_anchor')
