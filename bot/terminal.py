"""The terminal channel: the bot in a terminal, files given by path (``jiahu chat``).

Documents (the signed consent) are never written to disk in clear: like WeChat's, they are
stored encrypted as an ``Artefact`` and shown as a signed download link that ``jiahu serve``
answers."""
from __future__ import annotations

import asyncio
import getpass
import mimetypes
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.db import transaction
from backend.models import ChannelUser
from bot import limits
from bot.base import Channel, Progress, numbered
from bot.downloads import public_url, signed_path, store_artefact
from flows.engine import Engine
from flows.types import Inbound, Media, Outbound


class TerminalChannel(Channel):
    name = "terminal"

    def __init__(self, engine: Engine, sessions: async_sessionmaker[AsyncSession], *,
                 user_id: str | None = None, out: TextIO | None = None, base_url: str = "",
                 lang: str | None = None) -> None:
        self.engine = engine
        self.sessions = sessions
        self.user_id = user_id or f"terminal-{getpass.getuser()}"
        self.out = out or sys.stdout
        self.base_url = base_url
        self.lang = lang
        self.after_turn: Callable[[], Awaitable[object]] | None = None  # e.g. deliver queued messages
        self._run = uuid.uuid4().hex[:8]
        self._count = 0

    def inbound(self, line: str) -> Inbound:
        """A typed line: a path to an existing file is sent as that file, anything else as text."""
        self._count += 1
        message_id = f"{self._run}-{self._count}"
        candidate = Path(line.strip().strip("'\"")).expanduser()
        if line.strip() and len(line) < 4096 and candidate.is_file():
            media = Media(candidate.read_bytes(), mimetypes.guess_type(candidate.name)[0], candidate.name)
            return Inbound(channel=self.name, user_id=self.user_id, kind="file", media=[media],
                           message_id=message_id, language=self.lang)
        return Inbound(channel=self.name, user_id=self.user_id, kind="text", text=line.strip(),
                       message_id=message_id, language=self.lang)

    async def send(self, line: str) -> list[Outbound]:
        replies = await limits.handle(self.engine, self.inbound(line))
        await self.deliver(self.user_id, replies)
        if self.after_turn is not None:
            await self.after_turn()
        return replies

    async def start(self) -> list[Outbound]:
        self._count += 1
        replies = await self.engine.handle(Inbound(channel=self.name, user_id=self.user_id, kind="event",
                                                   event="start", message_id=f"{self._run}-start",
                                                   language=self.lang))
        await self.deliver(self.user_id, replies)
        return replies

    async def deliver(self, user_id: str, replies: list[Outbound], progress: Progress | None = None) -> None:
        for reply in replies:
            if reply.kind in ("document", "image") and (reply.data is not None or reply.url):
                self.out.write(f"bot: [{reply.filename}] {await self._link(user_id, reply)}\n")
                if reply.text:
                    self.out.write(f"bot: {reply.text}\n")
            else:
                text = numbered(reply, self.lang or "zh")
                self.out.write("bot: " + text.replace("\n", "\n     ") + "\n")
        self.out.flush()

    async def _link(self, user_id: str, reply: Outbound) -> str:
        """The document's signed download link (stored encrypted now if the flow gave none)."""
        path = reply.url
        if not path:
            async with transaction(self.sessions) as session:
                owner = await session.scalar(select(ChannelUser.id).where(
                    ChannelUser.channel == self.name, ChannelUser.external_id == user_id))
                artefact = await store_artefact(session, owner_kind="channel_user", owner_id=owner or 0,
                                                kind=reply.kind, data=reply.data or b"",
                                                content_type=reply.content_type or "application/pdf")
            path = signed_path(artefact.id, reply.filename or "document.pdf")
        return public_url(self.base_url, path) if path.startswith("/") else path

    async def replay(self, lines: Iterable[str]) -> None:
        """Play one user message per line and print the transcript (``--script``)."""
        await self.start()
        for line in lines:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            self.out.write(f"> {line.rstrip()}\n")
            await self.send(line.rstrip("\n"))

    async def interactive(self) -> None:
        await self.start()
        loop = asyncio.get_running_loop()
        while True:
            try:
                line = await loop.run_in_executor(None, input, "> ")
            except (EOFError, KeyboardInterrupt):
                self.out.write("\n")
                return
            if line.strip():
                await self.send(line)
