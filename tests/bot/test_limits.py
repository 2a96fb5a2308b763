"""Over-long messages are cut before the engine and its NLU see them, with a polite word."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.models import TranscriptEntry
from bot import limits
from flows.types import Inbound


async def test_a_200000_character_message_is_cut_and_the_family_told(runtime: Any) -> None:
    seen: list[Inbound] = []
    handle = runtime.engine.handle

    async def spy(inbound: Inbound) -> Any:
        seen.append(inbound)
        return await handle(inbound)

    runtime.engine.handle = spy
    text = "我要预约上门护理" + "啊" * 200_000
    replies = await limits.handle(runtime.engine, Inbound(channel="terminal", user_id="family-1",
                                                           kind="text", text=text, message_id="m1"))
    assert len(seen[0].text) == limits.MAX_TEXT and text.startswith(seen[0].text)
    assert "消息太长" in replies[0].text and len(replies) > 1
    async with runtime.sessions() as session:
        stored = (await session.execute(select(TranscriptEntry.text).where(
            TranscriptEntry.direction == "in"))).scalars().all()
    assert [len(t or "") for t in stored] == [limits.MAX_TEXT]
    short = await limits.handle(runtime.engine, Inbound(channel="terminal", user_id="family-1",
                                                         kind="text", text="你好", message_id="m2"))
    assert all("消息太长" not in r.text for r in short)
