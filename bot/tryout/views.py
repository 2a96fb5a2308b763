"""The aiohttp handlers of ``/try``: the page, and the JSON API that feeds the engine.

Each browser is one family member: a random user id kept in an HttpOnly, SameSite=Lax cookie.
The page generates an id for every message, so a double-submitted message gets one turn only
(the engine drops a repeated ``(channel, message_id)``).
"""
from __future__ import annotations

import asyncio
import json
import math
import re
import secrets
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
import structlog
from aiohttp import BodyPartReader, web
from markupsafe import Markup
from sqlalchemy import select

from backend import clock
from backend.artefacts import signed_path, store_artefact
from backend.config import hospital_config
from backend.crypto import mask
from backend.db import transaction
from backend.models import ChannelUser
from bot import limits
from bot.runtime import Runtime
from bot.tryout.mailbox import Mailbox
from bot.tryout.render import render_replies
from flows.messages import LANGUAGES, catalogue, t
from flows.types import Inbound, Location, Media, Outbound

log = structlog.get_logger(__name__)

CHANNEL = "tryout"
COOKIE = "jiahu_try"
COOKIE_MAX_AGE = 30 * 24 * 3600
LINK_TTL = 24 * 3600
MAX_TEXT = 2000

_Build = Callable[[web.Request, str], Awaitable[Inbound]]
_HERE = Path(__file__).parent
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_SHORT = re.compile(r"[\w.:\-]{1,64}")

_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
LANGUAGE_HEADER = "X-Try-Language"
"""The language the page shows now (a family may have switched), for the API's error messages."""
_TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_HERE)), autoescape=True,
                                undefined=jinja2.StrictUndefined)
NEW_USERS_PER_MINUTE = 10
"""Try-out users one client address may begin in a minute (``start`` without a cookie, ``reset``)."""


class _NewUserLimit:
    """A sliding one-minute window of new try-out users per client address (per process)."""

    def __init__(self, per_minute: int, addresses: int = 10_000) -> None:
        self.per_minute = per_minute
        self.addresses = addresses
        self._seen: dict[str, list[float]] = {}

    def allow(self, address: str) -> bool:
        now = clock.now().timestamp()
        recent = [t for t in self._seen.pop(address, []) if now - t < 60]
        allowed = len(recent) < self.per_minute
        self._seen[address] = [*recent, now] if allowed else recent
        while len(self._seen) > self.addresses:  # forget the longest-unseen address
            del self._seen[next(iter(self._seen))]
        return allowed


class ApiError(Exception):
    """A request the page should explain to the user politely (status and message key)."""

    def __init__(self, status: int, key: str, **values: object) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.values = values

    def message(self, lang: str) -> str:
        return t(lang, f"try.error.{self.key}", **self.values)


class TryoutViews:
    """Turns browser requests into ``Inbound`` events and the replies into JSON."""

    def __init__(self, runtime: Runtime, mailbox: Mailbox | None = None) -> None:
        self.runtime = runtime
        self.mailbox = mailbox or Mailbox()
        self.max_bytes = runtime.settings.max_upload_bytes
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._new_users = _NewUserLimit(NEW_USERS_PER_MINUTE)

    # --- the page -------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        """``GET /try``: the chat page in the conversation's language (a new visitor's follows
        the browser's ``Accept-Language``), with every word of both languages for the script,
        which switches when the family does."""
        token = _token(request)
        lang = await self._language(f"try-{token}") or browser_language(request)
        words = {code: self.furniture(code) for code in LANGUAGES}
        text = _TEMPLATES.get_template("chat.html.j2").render(
            lang=lang, html_lang="zh-CN" if lang == "zh" else lang, t=words[lang],
            max_bytes=self.max_bytes,
            furniture=Markup(json.dumps(words, ensure_ascii=False).replace("<", "\\u003c")))
        response = web.Response(text=text, content_type="text/html", headers=_PAGE_HEADERS)
        self._set_cookie(request, response, token)
        return response

    def furniture(self, lang: str) -> dict[str, str]:
        """The page's own words in ``lang`` from the message catalogue (``try.*``), with the
        hospital, hotline and size limit filled in; ``{filename}`` and ``{n}`` are the script's."""
        hospital = hospital_config().hospital
        fill = {"{hospital}": hospital.name(lang), "{hotline}": hospital.hotline,
                "{limit}": _size(self.max_bytes)}
        words = {"hospital": hospital.name(lang)}
        for key, text in catalogue(lang).items():
            if key.startswith("try.") and not key.startswith("try.error."):
                for placeholder, value in fill.items():
                    text = text.replace(placeholder, value)
                words[key.removeprefix("try.")] = text
        return words

    async def script(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(_HERE / "chat.js", headers={
            "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache"})

    async def style(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(_HERE / "chat.css", headers={
            "Content-Type": "text/css; charset=utf-8", "Cache-Control": "no-cache"})

    # --- the API --------------------------------------------------------------------------

    async def start(self, request: web.Request) -> web.Response:
        """``POST /try/api/start``: the page opened; the bot greets or re-asks its question.
        A client address begins at most ``NEW_USERS_PER_MINUTE`` new users a minute (429)."""
        if not _TOKEN.fullmatch(request.cookies.get(COOKIE, "")) and not self._new_users.allow(
                request.remote or ""):
            return _error(request, ApiError(429, "too_many"))
        return await self._api(request, self._start)

    async def message(self, request: web.Request) -> web.Response:
        """``POST /try/api/message``: typed text, or a pressed button (choice id + context)."""
        return await self._api(request, self._message)

    async def upload(self, request: web.Request) -> web.Response:
        """``POST /try/api/upload``: one photo or PDF (multipart ``file`` and ``message_id``)."""
        return await self._api(request, self._upload)

    async def updates(self, request: web.Request) -> web.Response:
        """``POST /try/api/updates``: replies pushed since the last turn (the page polls)."""
        try:
            self._check_origin(request)
        except ApiError as error:
            return _error(request, error)
        token = request.cookies.get(COOKIE, "")
        user_id = f"try-{token}"
        replies = self.mailbox.take(user_id) if _TOKEN.fullmatch(token) else []
        return await self._replies(user_id, replies, str(request.url.origin()))

    async def reset(self, request: web.Request) -> web.Response:
        """``POST /try/api/reset``: forget this browser's try-out user and begin as a new one."""
        try:
            self._check_origin(request)
            if not self._new_users.allow(request.remote or ""):
                raise ApiError(429, "too_many")
        except ApiError as error:
            return _error(request, error)
        response = web.json_response({"ok": True}, headers=_API_HEADERS)
        self._set_cookie(request, response, secrets.token_urlsafe(16))
        return response

    async def _api(self, request: web.Request, build: _Build) -> web.Response:
        token = _token(request)
        user_id = f"try-{token}"
        try:
            self._check_origin(request)
            inbound = await build(request, user_id)
        except ApiError as error:
            return _error(request, error)
        async with self._lock(user_id):
            replies = await limits.handle(self.runtime.engine, inbound)
        response = await self._replies(user_id, replies, str(request.url.origin()))
        self._set_cookie(request, response, token)
        return response

    async def _replies(self, user_id: str, replies: list[Outbound], origin: str) -> web.Response:
        body = {"replies": await render_replies(replies, lambda reply: self._link(user_id, reply),
                                                origin=self.runtime.settings.public_url or origin),
                "lang": await self._language(user_id)}
        return web.json_response(body, headers=_API_HEADERS)

    async def _language(self, user_id: str) -> str | None:
        """The conversation's language (the page follows a switch), or None for a new browser."""
        async with self.runtime.sessions() as session:
            return await session.scalar(select(ChannelUser.language).where(
                ChannelUser.channel == CHANNEL, ChannelUser.external_id == user_id))

    async def _start(self, request: web.Request, user_id: str) -> Inbound:
        payload = await _json(request)
        # the language only counts for a new conversation; an ongoing one keeps its own
        return self._inbound(user_id, payload, kind="event", event="start",
                             language=browser_language(request, payload.get("languages")))

    async def _message(self, request: web.Request, user_id: str) -> Inbound:
        payload = await _json(request)
        text, choice, context = payload.get("text"), payload.get("choice"), payload.get("context")
        if context is not None and not (isinstance(context, str) and _SHORT.fullmatch(context)):
            raise ApiError(400, "bad_request")
        if (place := payload.get("location")) is not None:
            return self._inbound(user_id, payload, kind="location", location=_location(place),
                                 choice_context=context)
        if isinstance(choice, str) and _SHORT.fullmatch(choice):
            return self._inbound(user_id, payload, kind="choice", choice=choice, choice_context=context)
        if isinstance(text, str) and text.strip() and len(text) <= MAX_TEXT:
            return self._inbound(user_id, payload, kind="text", text=text.strip(),
                                 choice_context=context)
        raise ApiError(400, "bad_request")

    async def _upload(self, request: web.Request, user_id: str) -> Inbound:
        if request.content_length and request.content_length > self.max_bytes + 64 * 1024:
            raise ApiError(413, "too_large", limit=_size(self.max_bytes))
        if not request.content_type.startswith("multipart/"):
            raise ApiError(400, "bad_request")
        message_id: str | None = None
        media: Media | None = None
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "message_id":
                message_id = (await part.read(decode=True))[:100].decode("utf-8", "replace")
            elif part.name == "file" and media is None:
                media = Media(await self._read_file(part), part.headers.get("Content-Type"),
                              _filename(part.filename))
        if media is None or not media.data:
            raise ApiError(400, "no_file")
        kind = "image" if (media.content_type or "").startswith("image/") else "file"
        return self._inbound(user_id, {"message_id": message_id}, kind=kind, media=[media])

    async def _read_file(self, part: BodyPartReader) -> bytes:
        data = bytearray()
        while chunk := await part.read_chunk(64 * 1024):
            data += chunk
            if len(data) > self.max_bytes:
                raise ApiError(413, "too_large", limit=_size(self.max_bytes))
        return bytes(data)

    def _inbound(self, user_id: str, payload: dict[str, Any], **fields: Any) -> Inbound:
        message_id = payload.get("message_id")
        if not (isinstance(message_id, str) and _MESSAGE_ID.fullmatch(message_id)):
            raise ApiError(400, "bad_request")
        # the engine dedupes per channel, so one browser's ids cannot collide with another's
        return Inbound(channel=CHANNEL, user_id=user_id, message_id=f"{user_id}:{message_id}",
                       is_tryout=True, **fields)

    # --- users, documents, safety ---------------------------------------------------------

    @staticmethod
    def _set_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
        response.set_cookie(COOKIE, token, max_age=COOKIE_MAX_AGE, path="/try", httponly=True,
                            samesite="Lax", secure=request.secure or None)

    def _check_origin(self, request: web.Request) -> None:
        """Only this site's own page may post (SameSite=Lax already keeps other sites' cookies out)."""
        origin = request.headers.get("Origin")
        if origin is None:
            return
        allowed = {request.host, urlsplit(self.runtime.settings.public_url).netloc}
        if urlsplit(origin).netloc not in allowed:
            raise ApiError(403, "forbidden")

    def _lock(self, user_id: str) -> asyncio.Lock:
        """One turn at a time per browser, so replies come back in the order sent."""
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = asyncio.Lock()
        return lock

    async def _link(self, user_id: str, reply: Outbound) -> str | None:
        """A signed, short-lived download link for a document the flow gave no link for.

        The turn is already saved, so a storage failure shows the file's name without a link
        rather than losing the replies.
        """
        try:
            async with transaction(self.runtime.sessions) as session:
                owner = await session.scalar(select(ChannelUser.id).where(
                    ChannelUser.channel == CHANNEL, ChannelUser.external_id == user_id))
                artefact = await store_artefact(session, owner_kind="channel_user",
                                                owner_id=owner or 0, kind="document",
                                                data=reply.data or b"",
                                                content_type=reply.content_type or "application/pdf")
        except Exception:
            log.exception("tryout.document.store_failed", user=mask(user_id))
            return None
        return signed_path(artefact.id, reply.filename or "document.pdf", ttl=LINK_TTL)


_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data: blob:; "
                                "style-src 'self'; script-src 'self'; connect-src 'self'; "
                                "object-src 'none'; base-uri 'none'; form-action 'self'"),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
_API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _token(request: web.Request) -> str:
    """This browser's try-out token, from its cookie, or a new random one."""
    token = request.cookies.get(COOKIE, "")
    if _TOKEN.fullmatch(token):
        return token
    token = secrets.token_urlsafe(16)
    log.info("tryout.new_user", user=mask(f"try-{token}"))
    return token


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        payload = await request.json()
    except ValueError:
        raise ApiError(400, "bad_request") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "bad_request")
    return payload


def _error(request: web.Request, error: ApiError) -> web.Response:
    """The error in the language the page shows (its header), else the browser's."""
    shown = request.headers.get(LANGUAGE_HEADER, "")
    lang = shown if shown in LANGUAGES else browser_language(request)
    return web.json_response({"error": error.message(lang)}, status=error.status, headers=_API_HEADERS)


def browser_language(request: web.Request, preferred: object = None) -> str:
    """The first of our languages the browser prefers: the page's ``navigator.languages`` when
    sent (``preferred``), else the ``Accept-Language`` header by its q-values; Chinese otherwise."""
    tags: list[str] = []
    if isinstance(preferred, list):
        tags = [tag for tag in preferred[:20] if isinstance(tag, str)]
    if not tags:
        weighted = []
        for position, item in enumerate(request.headers.get("Accept-Language", "").split(",")[:20]):
            tag, _, params = item.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    continue
            weighted.append((-quality, position, tag.strip()))
        tags = [tag for quality, _, tag in sorted(weighted) if quality < 0]
    for tag in tags:
        if _LANGUAGE_TAG.fullmatch(tag) and (primary := tag.split("-")[0].lower()) in LANGUAGES:
            return primary
    return "zh"


def _location(place: object) -> Location:
    """The browser's position (``navigator.geolocation``): finite degrees within range."""
    if isinstance(place, dict):
        latitude, longitude = place.get("latitude"), place.get("longitude")
        if (isinstance(latitude, int | float) and isinstance(longitude, int | float)
                and not isinstance(latitude, bool) and not isinstance(longitude, bool)
                and math.isfinite(latitude) and math.isfinite(longitude)
                and abs(latitude) <= 90 and abs(longitude) <= 180):
            return Location(float(latitude), float(longitude))
    raise ApiError(400, "bad_request")


def _filename(name: str | None) -> str | None:
    if not name:
        return None
    return Path(name.replace("\\", "/")).name[:120] or None


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.0f} MB" if count >= 1024 * 1024 else f"{count // 1024} KB"
