"""Migrations over every database backend: the schema matches the models; 0006 indexes rows that
existed before it (ID numbers are encrypted, so it decrypts with the service key)."""
from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from backend.db import alembic_config, transaction
from backend.models import Base, Patient, id_tail_index


def _diff(url: str) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    async def run() -> list[object]:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            found = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
        await engine.dispose()
        return list(found)
    return asyncio.run(run())


def test_the_migrated_schema_matches_the_models(database_url):
    assert _diff(database_url) == []


async def test_0006_indexes_rows_that_were_there_before(database_url, runtime):
    from alembic import command

    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0003")
    async with transaction(runtime.sessions) as session:  # type: ignore[attr-defined]
        await session.execute(Patient.__table__.insert().values(
            name="王秀英", id_number="11010519491231002X", id_number_index="x", birth_date=date(1949, 12, 31),
            sex="F"))
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "head")
    async with runtime.sessions() as session:  # type: ignore[attr-defined]
        patient = (await session.execute(select(Patient))).scalar_one()
    assert patient.id_tail_index == id_tail_index("002X")
