"""The dialogue corpus (tests/flows/dialogues) over the WeChat endpoint in safe mode: the same
conversations as on the terminal, through WeChat's real HTTP protocol and the fake WeChat API,
checking the replies the family sees and what is stored."""
from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import png_bytes
from tests.flows.corpus import check_stored, load, play, stored_facts

from .fakes import Family  # noqa: TID252

CONVERSATIONS = load()


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[f"{c.file}:{c.name}" for c in CONVERSATIONS])
async def test_conversation_over_wechat(runtime: Any, fake_wechat: Any, family: Family,
                                        conversation: Any) -> None:
    if runtime.db.dialect.name != "sqlite":
        pytest.skip("the corpus runs on SQLite; the same services run on PostgreSQL in the other tests")
    family.safe = True
    fake_wechat.media["ID_CARD"] = (png_bytes(), "image/jpeg")
    fake_wechat.media["record.png"] = (png_bytes((80, 60)), "image/png")

    async def send(text: str) -> str:
        return await family.send(family.text(text))

    async def photo(kind: str) -> str:
        if kind == "<id-card>":
            return await family.send(family.image("ID_CARD", "http://mmbiz.qpic.cn/unused"))
        return await family.send(family.image("MEDIA_EXPIRED", f"{fake_wechat.url}/pic/record.png"))

    misses = await play(conversation, send, photo)
    assert misses <= conversation.max_misses, f"{conversation.name}: {misses} misunderstood turns"
    check_stored(conversation, await stored_facts(runtime.sessions))
