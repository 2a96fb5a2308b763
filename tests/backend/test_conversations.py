"""The transcript and the conversation state as a turn writes them, on a real database."""
from __future__ import annotations

from sqlalchemy import select, text

from backend import conversations
from backend.db import transaction
from backend.models import TranscriptEntry


async def test_an_inbound_message_is_recorded_once_and_stays_changeable(runtime):
    async with transaction(runtime.sessions) as session:
        user = await conversations.get_or_create_user(session, "wechat", "o-family")
        entry = await conversations.record_inbound(session, user, kind="text", text="我想预约换药",
                                                   channel_message_id="m-1", payload={"event": "x"})
        assert entry is not None and entry.id and entry in session
        again = await conversations.record_inbound(session, user, kind="text", text="我想预约换药",
                                                   channel_message_id="m-1")
        assert again is None
        entry.payload = {"upload_ids": [7]}  # as Turn.link_upload does
    async with transaction(runtime.sessions) as session:
        stored = await session.get_one(TranscriptEntry, entry.id)
        assert (stored.text, stored.author, stored.direction) == ("我想预约换药", "family", "in")
        assert stored.payload == {"upload_ids": [7]}
        raw = (await session.execute(text("SELECT text FROM transcript WHERE id = :id"), {"id": entry.id})).scalar()
        assert "换药" not in raw  # encrypted at rest, as through the ORM


async def test_replies_follow_what_the_turn_added_before_them(runtime):
    async with transaction(runtime.sessions) as session:
        user = await conversations.get_or_create_user(session, "wechat", "o-family")
        inbound = await conversations.record_inbound(session, user, kind="text", text="你好",
                                                     channel_message_id="m-2")
        session.add(TranscriptEntry(channel_user_id=user.id, channel="wechat", direction="out",
                                    kind="text", text="pushed first", author="li.hua"))
        await conversations.record_outbound(session, user, [("text", "您好", None),
                                                            ("choices", "请选择", {"choices": [{"id": "1"}]})])
    async with transaction(runtime.sessions) as session:
        rows = (await session.execute(select(TranscriptEntry).where(TranscriptEntry.id > inbound.id)
                                      .order_by(TranscriptEntry.id))).scalars().all()
        assert [(r.text, r.author, r.payload) for r in rows] == [
            ("pushed first", "li.hua", None), ("您好", "bot", None),
            ("请选择", "bot", {"choices": [{"id": "1"}]})]
        assert [r.text for r in await conversations.replies_to(session, user, "m-2")] == ["您好", "请选择"]


async def test_the_state_is_saved_in_one_statement_and_encrypted(runtime):
    async with transaction(runtime.sessions) as session:
        user = await conversations.get_or_create_user(session, "wechat", "o-family")
        state = await conversations.load_state(session, user)
        state.flow, state.step, state.data, state.turn = "intake", "phone", {"answers": {"patient_name": "王秀英"}}, 3
        await conversations.save_state(session, state)
        assert state not in session
    async with transaction(runtime.sessions) as session:
        user = await conversations.get_or_create_user(session, "wechat", "o-family")
        saved = await conversations.load_state(session, user)
        assert (saved.flow, saved.step, saved.data, saved.turn) == (
            "intake", "phone", {"answers": {"patient_name": "王秀英"}}, 3)
        raw = (await session.execute(text("SELECT data FROM conversation_states WHERE channel_user_id = :id"),
                                     {"id": user.id})).scalar()
        assert "王秀英" not in raw
