"""Everything a running jiahu process holds: settings, database, the conversation engine."""
from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend import clock as clocks
from backend.catalogue import sync_catalogue
from backend.clock import Clock
from backend.config import catalogue
from backend.db import make_engine, make_sessionmaker, transaction, upgrade
from backend.settings import Settings
from bot.base import Progress
from flows.engine import Deps, Engine
from flows.factory import build_engine
from flows.types import Outbound
from nlu import make_recognizer
from nlu.base import Recognizer

log = structlog.get_logger(__name__)


Sender = Callable[[str, list[Outbound], Progress], Awaitable[None]]
"""A channel's ``deliver``: send replies to a user after the ``Progress.done`` already sent."""


@dataclass
class Runtime:
    """A process's shared parts. Channels that can push messages register a ``sender``."""

    settings: Settings
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    engine: Engine
    clock: Clock
    senders: dict[str, Sender] = field(default_factory=dict)

    async def close(self) -> None:
        await self.db.dispose()


async def open_runtime(settings: Settings, *, migrate: bool = True,
                       recognizer: Recognizer | None = None, clock: Clock | None = None) -> Runtime:
    """Prepare a process: secret key, migrations, catalogue, engine. A ``clock`` given here
    becomes the process's clock (every part of the service reads the time from it)."""
    if clock is not None:
        clocks.install(clock)
    settings.ensure_secret_key()
    url = settings.resolved_database_url
    if migrate:
        await upgrade(url)
    db = make_engine(url)
    sessions = make_sessionmaker(db)
    async with transaction(sessions) as session:
        await sync_catalogue(session, catalogue())
    if recognizer is None:
        recognizer = make_recognizer(settings)
        await asyncio.to_thread(_warm_up, recognizer)
    deps = Deps(sessions=sessions, recognizer=recognizer)
    log.info("runtime.ready", database=db.dialect.name,
             event_loop=type(asyncio.get_running_loop()).__module__.split(".")[0])
    return Runtime(settings=settings, db=db, sessions=sessions, engine=build_engine(deps),
                   clock=clocks.current())


WARM_UP_TEXT = "我想预约明天上午上门换药，联系电话稍后给您"
"""Read once at start, so that the first family does not wait for jieba's dictionary and the
entity matchers, which load on first use (about a second)."""


def _warm_up(recognizer: Recognizer) -> None:
    """Load (or train, when missing or stale) the embedded model before the first message, and
    read one sentence with it."""
    embedded = recognizer if hasattr(recognizer, "load") else getattr(recognizer, "fallback", None)
    load = getattr(embedded, "load", None)
    if load is not None:
        load()
    read = getattr(embedded, "parse_sync", None)
    if read is not None:
        read(WARM_UP_TEXT)


# Objects alive beyond the last collection that start a young one in a serving process (700 by
# default): see settle_heap.
YOUNG_COLLECTION_THRESHOLD = 10_000


def settle_heap() -> None:
    """Exclude what a serving process loaded at start from garbage collection (``gc.freeze``).

    The NLU model, jieba's dictionary, the catalogues and the libraries are some 600,000 objects
    that live as long as the process; each full collection walked all of them, stopping every
    conversation for a third of a second at random moments (``bench/wechat_webhook.py``'s
    slowest turns). Collections still run for what the process creates from here on, once
    10,000 more objects are alive rather than 700: twenty turns in flight went past 700 and back
    all the time, which made ~190 young collections a thousand messages (~2 % of the CPU under
    ``bench/wechat_webhook.py``), against none or one at 10,000."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, older, oldest)
