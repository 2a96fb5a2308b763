"""blind indexes for search: ID tail, the present person's phone

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 15:10:00.000000

(Another branch adds 0004 and 0005; this migration is re-chained after them at merge.)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_COLUMNS = [("patients", "id_tail_index"), ("intakes", "present_phone_index"),
            ("bookings", "present_phone_index")]


def _backfill() -> None:
    """Index the rows that exist already (decrypting with the service's key)."""
    from backend.models import id_tail_index, phone_index
    from backend.types import EncryptedText

    bind = op.get_bind()
    sources = [("patients", "id_number", "id_tail_index", id_tail_index),
               ("intakes", "present_phone", "present_phone_index", phone_index),
               ("bookings", "present_phone", "present_phone_index", phone_index)]
    for table_name, source, target, index in sources:
        table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(source, EncryptedText()),
                         sa.column(target, sa.String))
        rows = bind.execute(sa.select(table.c.id, table.c[source]).where(table.c[source].is_not(None))).all()
        for row_id, value in rows:
            bind.execute(table.update().where(table.c.id == row_id).values({target: index(value)}))


def upgrade() -> None:
    for table, column in _COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.String(length=64), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)
    _backfill()


def downgrade() -> None:
    for table, column in reversed(_COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))
            batch_op.drop_column(column)
