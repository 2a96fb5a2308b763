"""Short writes of concurrent requests committed together: the ones that arrive while a batch
waits for the database (on SQLite, behind the turns holding its one connection) join it, so that
one transaction and one commit serve several requests. Each caller gets its own result only
after the commit, so nothing is answered on the strength of a write that could still be lost.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

Item = TypeVar("Item")
Result = TypeVar("Result")
Write = Callable[[AsyncConnection, list[Item]], Awaitable[list[Result]]]


class Batched(Generic[Item, Result]):
    """``await batched(item)``: ``write(connection, items)`` for the batch ``item`` joined, in
    one transaction; returns the result of ``item`` (``write`` returns one per item, in order)."""

    def __init__(self, db: AsyncEngine, write: Write[Item, Result]) -> None:
        self.db = db
        self.write = write
        self._items: list[Item] = []
        self._done: asyncio.Future[list[Result]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, item: Item) -> Result:
        if self._done is None:  # the first caller opens a batch; the next ones join it
            self._done = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._commit(self._done))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        position = len(self._items)
        self._items.append(item)
        # shielded: a caller that goes away does not cancel the batch of the others
        return (await asyncio.shield(self._done))[position]

    async def _commit(self, done: asyncio.Future[list[Result]]) -> None:
        try:
            async with self.db.begin() as connection:
                # the batch closes once it has the database: later callers open the next one
                items, self._items, self._done = self._items, [], None
                results = await self.write(connection, items)
        except BaseException as error:
            if self._done is done:  # failed before it had the database: the next caller starts afresh
                self._items, self._done = [], None
            if isinstance(error, asyncio.CancelledError):
                done.cancel()
                raise
            done.set_exception(error)
        else:
            done.set_result(results)
