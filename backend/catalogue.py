"""Keeps the ``services`` table in step with the hospital's catalogue data file."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import Catalogue
from backend.models import Service


async def sync_catalogue(session: AsyncSession, catalogue: Catalogue) -> None:
    """Insert or update every item; items no longer in the file are marked inactive."""
    existing = {s.code: s for s in (await session.execute(select(Service))).scalars()}
    for item in catalogue.services:
        row = existing.pop(item.code, None) or Service(code=item.code)
        row.name_zh, row.name_en, row.category = item.name_zh, item.name_en, item.category
        row.price, row.staff_role, row.listed, row.active = item.price, item.staff_role, item.listed, True
        session.add(row)
    for row in existing.values():
        row.active = False
    await session.flush()
