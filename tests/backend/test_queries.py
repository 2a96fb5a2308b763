"""Staff-side queries on a real database: finding conversations, workload, access records."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from backend import queries
from backend.models import AuditEntry


async def test_find_a_conversation_by_name_phone_id_and_booking(dialogue, runtime):
    await dialogue.intake()
    number = re.search(r"JH\d{12}", dialogue.log[-1]).group()
    async with runtime.sessions() as session:
        for q in ("王秀英", "13800138000", "138 0013 8000", "11010519491231002x", number, ""):
            rows = await queries.search_conversations(session, q=q)
            assert [r.user.external_id for r in rows] == ["family-1"], q
            assert rows[0].patient_names == ["王秀英"] and rows[0].booking_numbers == [number]
        assert await queries.search_conversations(session, q="李四") == []
        assert await queries.search_conversations(session, channel="wechat") == []


async def test_reading_a_transcript_leaves_an_access_record(dialogue, runtime):
    await dialogue.intake(until="phone")
    async with runtime.sessions() as session, session.begin():
        entries = await queries.read_transcript(session, 1, "hotline.li")
        uploads = await queries.uploads_of_user(session, 1)
    assert entries[0].direction == "in" and uploads == []
    async with runtime.sessions() as session:
        record = (await session.execute(select(AuditEntry).where(
            AuditEntry.action == "pii.transcript_viewed"))).scalar_one()
    assert record.actor == "hotline.li" and record.subject == "channel_user:1"


async def test_workload_counts(dialogue, runtime, today):
    await dialogue.intake()
    async with runtime.sessions() as session:
        stats = await queries.workload(session, today - timedelta(days=24), today + timedelta(days=37))
    assert stats["bookings_by_state"] == {"requested": 1}
    assert stats["bookings_per_district"] == {"朝阳区": 1}
    assert stats["bookings_per_service"] == {"pressure_ulcer_care": 1, "wound_care": 1}
