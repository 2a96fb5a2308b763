"""Helpers of the API tests: an app with only the API, tokens, console sessions, a real booking."""
from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp import web

from backend import api, bookings
from backend.db import transaction
from backend.models import Booking
from backend.staff import create_staff, create_token
from backend.web.auth import COOKIE, SESSIONS, start_session
from bot.notifier import deliver_notifications


def api_app(runtime) -> web.Application:  # type: ignore[no-untyped-def]
    app = web.Application()
    app[SESSIONS] = runtime.sessions
    api.setup(app)
    return app


async def make_token(runtime, name: str, *scopes: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Authorization headers of a new token with these scopes."""
    async with transaction(runtime.sessions) as session:
        _, secret = await create_token(session, name, list(scopes), "test")
    return {"Authorization": f"Bearer {secret}"}


@dataclass
class Console:
    """A logged-in member of staff: the cookie header, and the CSRF token of the session."""

    cookie: dict[str, str]
    csrf: str

    @property
    def changing(self) -> dict[str, str]:
        return {**self.cookie, "X-CSRF-Token": self.csrf}


async def console_login(runtime, username: str, role: str) -> Console:  # type: ignore[no-untyped-def]
    async with transaction(runtime.sessions) as session:
        account = await create_staff(session, username, username, role, "a long password 123")
        value, csrf = await start_session(session, account)
    return Console({"Cookie": f"{COOKIE}={value}"}, csrf)


async def book(dialogue, runtime) -> Booking:  # type: ignore[no-untyped-def]
    """A booking made by a family through the bot, with its consent PDF delivered."""
    await dialogue.intake()
    await deliver_notifications(runtime)
    number = re.search(r"JH\d{12}", dialogue.log[-1]).group()  # type: ignore[union-attr]
    async with runtime.sessions() as session:
        booking = await bookings.by_number(session, number)
    assert booking is not None
    return booking
