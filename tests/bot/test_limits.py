"""Over-long messages are cut before the engine and its NLU see them, with a polite word."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.models import TranscriptEntry
from bot import limits
from flows.types import Inbound
from tests.conftest import recording


async def test_a_200000_character_message_is_cut_and_the_family_told(runtime: Any) -> None:
    seen = recording(runtime)
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


async def test_a_refused_file_is_taken_out_and_the_family_told_why(runtime: Any, dialogue: Any) -> None:
    import io

    from PIL import Image

    from flows.types import Media
    from tests.conftest import png_bytes

    await dialogue.intake(until="upload_id")
    bomb = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(bomb, format="PNG")
    replies = await limits.handle(runtime.engine, Inbound(
        channel="terminal", user_id=dialogue.user_id, kind="file", message_id="bomb",
        media=[Media(bomb.getvalue(), "image/png", "big.png")]))
    assert "像素太多" in replies[0].text and "身份证" in "\n".join(r.text for r in replies[1:])
    polyglot = png_bytes() + b"<html><script>alert(1)</script></html>"
    replies = await limits.handle(runtime.engine, Inbound(
        channel="terminal", user_id=dialogue.user_id, kind="file", message_id="photo",
        media=[Media(polyglot, "image/png", "id.png")]))
    assert "身份证照片已收到" in "\n".join(r.text for r in replies)
    from backend.models import Upload
    from backend.storage import read_decrypted

    async with runtime.sessions() as session:
        [upload] = (await session.execute(select(Upload))).scalars().all()
    stored = await read_decrypted(upload.storage_path)
    assert stored.startswith(b"\x89PNG") and b"<script>" not in stored
