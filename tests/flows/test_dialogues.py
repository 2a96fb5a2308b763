"""The dialogue corpus over the terminal channel: replies and what is stored (tests/flows/corpus.py)."""
from __future__ import annotations

import pytest

from tests.conftest import Dialogue, png_bytes
from tests.flows.corpus import check_stored, load, play, stored_facts

CONVERSATIONS = load()


def test_the_corpus_is_large_and_bilingual() -> None:
    assert len(CONVERSATIONS) >= 60
    assert {c.lang for c in CONVERSATIONS} == {"zh", "en"}
    assert len({c.name for c in CONVERSATIONS}) == len(CONVERSATIONS)


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[f"{c.file}:{c.name}" for c in CONVERSATIONS])
async def test_conversation(runtime, conversation) -> None:
    if runtime.db.dialect.name != "sqlite":
        pytest.skip("the corpus runs on SQLite; the same services run on PostgreSQL in the other tests")
    from flows.types import Media

    family = Dialogue(runtime.engine)

    async def photo(kind: str) -> str:
        size = (64, 40) if kind == "<id-card>" else (80, 60)
        return await family.say(media=[Media(png_bytes(size), "image/png", f"{kind[1:-1]}.png")])

    try:
        misses = await play(conversation, family.say, photo)
    finally:
        print("\n".join(family.log))  # shown when the test fails
    assert misses <= conversation.max_misses, f"{conversation.name}: {misses} misunderstood turns\n" + \
        "\n".join(family.log)
    check_stored(conversation, await stored_facts(runtime.sessions))
