"""Short writes of requests arriving together share one transaction; each caller gets its own
result, and a failure reaches every caller of its batch without spoiling the next one."""
from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.wechat.batches import Batched


async def test_requests_arriving_together_share_one_transaction(runtime: Any) -> None:
    batches: list[list[int]] = []

    async def write(connection: AsyncConnection, items: list[int]) -> list[int]:
        assert connection.in_transaction()
        batches.append(list(items))
        return [item * 2 for item in items]

    batched: Batched[int, int] = Batched(runtime.db, write)
    assert await asyncio.gather(batched(1), batched(2), batched(3)) == [2, 4, 6]
    assert await batched(4) == 8
    assert batches == [[1, 2, 3], [4]]


async def test_a_failed_batch_fails_each_caller_and_the_next_starts_afresh(runtime: Any) -> None:
    async def write(connection: AsyncConnection, items: list[int]) -> list[int]:
        if 0 in items:
            raise RuntimeError("the database went away")
        return items

    batched: Batched[int, int] = Batched(runtime.db, write)
    failed = await asyncio.gather(batched(0), batched(1), return_exceptions=True)
    assert [type(result) for result in failed] == [RuntimeError, RuntimeError]
    assert await batched(2) == 2
