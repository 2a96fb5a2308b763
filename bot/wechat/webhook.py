"""``/wechat``: URL verification, and messages in safe (AES) mode — plain mode only without an
AES key or when ``JIAHU_WECHAT_ALLOW_PLAIN`` is set. Every push must be signed, recent, and not a
replay of a signature triple under another body (``bot/wechat/replay.py``).

WeChat waits 5 seconds for the HTTP answer and then retries the same message (up to three
times). A turn runs in its own task; if it ends within ``PASSIVE_WINDOW_SECONDS`` the answer is
the passive reply, otherwise the request is answered ``success`` at once and the replies follow
through the customer-service API. Retries that reach this process wait on the same task; a retry
reaching another process is dropped by the engine's dedupe and answered ``success``.
"""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

import aiohttp
import structlog
import xmltodict
import yaml
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from backend import clock, conversations, service_window
from backend.crypto import mask
from backend.db import transaction
from backend.models import ChannelUser
from backend.settings import get_settings
from bot import delivery, limits
from bot.base import Progress, Undeliverable
from bot.downloads import public_url, signed_path, store_artefact
from bot.runtime import Runtime
from bot.speech import make_speech
from bot.wechat.api import WeChatAPI, WeChatError
from bot.wechat.batches import Batched
from bot.wechat.inbound import CHANNEL, is_answerable, message_key, raw, to_inbound
from bot.wechat.outbox import MAX_MESSAGES, Image, Text, passive_text, plan
from bot.wechat.replay import Push, is_fresh, remember
from bot.wechat.upload_page import upload_link
from flows.messages import t
from flows.types import Inbound, Media, Outbound

log = structlog.get_logger(__name__)

PASSIVE_WINDOW_SECONDS = 4.0
"""How long a request waits for its turn before answering ``success`` (WeChat gives up at 5)."""
RETRY_MEMORY_SECONDS = 30.0
"""How long a finished turn is remembered for WeChat's retries (they come within ~15 s)."""
OUTBOX_HOLD_SECONDS = 20.0
"""How long a turn's queued replies wait for the passive reply before the outbox sends them
itself: past WeChat's retries of a message (three within ~15 s), so that a process that died
after the turn committed leaves the answer to a retry, or else to the outbox."""
SUCCESS = "success"


@dataclass(slots=True)
class _Pending:
    """A message being (or just) processed, shared by WeChat's retries of it: its turn's task
    until a request claims the answer, then the answer alone. (A finished task holds its
    coroutine, context and replies; kept so for every message of the last 30 seconds they filled
    the garbage collector's oldest generation, whose full collections, each stopping every
    conversation for ~50 ms, came a few times a minute under load.)"""

    task: asyncio.Task[list[Outbound]] | None
    claimed: bool = False
    passive: str | None = None


class BadRequest(Exception):
    """The body is not a WeChat message (400)."""


class Forbidden(Exception):
    """The request is not signed with our token (403)."""


class WeChatWebhook:
    """The aiohttp handlers of the WeChat channel and the delivery of a turn's replies."""

    def __init__(self, runtime: Runtime, api: WeChatAPI) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.api = api
        self.token = runtime.settings.wechat_token
        self.crypto = (WeChatCrypto(self.token, runtime.settings.wechat_aes_key,
                                    runtime.settings.wechat_appid)
                       if runtime.settings.wechat_aes_key else None)
        self._pending: dict[str, _Pending] = {}
        self._forgetting: deque[tuple[float, str]] = deque()  # (when, message key), in order
        # turns answered passively together settle their held replies in one transaction
        self._answered: Batched[str, None] = Batched(runtime.db, _settle_answered)
        self._seen: Batched[Push, bool] = Batched(runtime.db, remember)  # replay protection
        self.speech = make_speech(runtime.settings)
        self._background: set[asyncio.Task[Any]] = set()

    # --- HTTP -----------------------------------------------------------------------------

    async def verify(self, request: web.Request) -> web.Response:
        """``GET /wechat``: WeChat checks the server URL by asking us to echo ``echostr``."""
        if not self._signed(request):
            raise web.HTTPForbidden(text="bad signature")
        return web.Response(text=request.query.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.Response:
        """``POST /wechat``: one message or event; the answer is a passive reply or ``success``."""
        if not self._signed(request):
            raise web.HTTPForbidden(text="bad signature")
        body = await request.read()
        safe_mode = request.query.get("encrypt_type", "raw") == "aes"
        if self.crypto is not None and not safe_mode and not self.settings.wechat_allow_plain:
            log.warning("wechat.plain_refused", remote=request.remote)
            raise web.HTTPForbidden(text="safe mode only")
        try:
            xml = self._decrypt(request, body) if safe_mode else body.decode("utf-8")
            message = parse_message(xml)
            if message is None:
                raise BadRequest("empty body")
        except Forbidden as error:
            raise web.HTTPForbidden(text=str(error)) from None
        except (BadRequest, ExpatError, KeyError, TypeError, ValueError, AttributeError):
            raise web.HTTPBadRequest(text="not a WeChat message") from None
        query = request.query  # after decryption, so that only an authentic body is remembered
        if not await self._seen(Push(query.get("signature", ""), query.get("timestamp", ""),
                                     query.get("nonce", ""), body)):
            log.warning("wechat.replay_refused", remote=request.remote)
            raise web.HTTPForbidden(text="signature already used")
        if not is_answerable(message):
            return web.Response(text=SUCCESS)
        text = await self.process(message)
        if text is None:
            return web.Response(text=SUCCESS)
        reply = TextReply(message=message, content=text).render()
        if safe_mode and self.crypto is not None:
            reply = self.crypto.encrypt_message(reply, request.query.get("nonce", ""),
                                                str(clock.timestamp()))
        return web.Response(text=reply, content_type="application/xml")

    def _signed(self, request: web.Request) -> bool:
        query = request.query
        if not is_fresh(query.get("timestamp", "")):
            log.warning("wechat.timestamp.stale", remote=request.remote)
            return False
        try:
            check_signature(self.token, query.get("signature", ""), query.get("timestamp", ""),
                            query.get("nonce", ""))
        except InvalidSignatureException:
            log.warning("wechat.signature.invalid", remote=request.remote)
            return False
        return True

    def _decrypt(self, request: web.Request, body: bytes) -> str:
        if self.crypto is None:
            raise Forbidden("safe mode needs JIAHU_WECHAT_AES_KEY")
        envelope = xmltodict.parse(body.decode("utf-8")).get("xml")
        if not isinstance(envelope, dict) or not envelope.get("Encrypt"):
            raise BadRequest("no Encrypt element")
        query = request.query
        try:
            return str(self.crypto.decrypt_message(envelope, query.get("msg_signature", ""),
                                                   query.get("timestamp", ""), query.get("nonce", "")))
        except InvalidSignatureException:
            raise Forbidden("bad msg_signature") from None
        except InvalidAppIdException:  # signed, but not sealed for this account
            raise BadRequest("not for this AppID") from None
        except Exception:  # noqa: BLE001 - signed but undecryptable: junk, not our failure
            raise BadRequest("cannot decrypt") from None

    # --- turns ----------------------------------------------------------------------------

    async def process(self, message: BaseMessage) -> str | None:
        """Run (or join) the message's turn; the passive reply text, or None for ``success``.

        The turn queues its replies in the outbox, held for a moment: a passive reply settles
        them as sent, otherwise they are released and sent through the customer-service API."""
        key = message_key(message)
        self._forget_expired()
        pending = self._pending.get(key)
        if pending is None:
            task = asyncio.create_task(self._turn(message))
            pending = self._pending[key] = _Pending(task)
            task.add_done_callback(lambda _: self._forget_later(key))
        elif pending.claimed or pending.task is None:
            log.info("wechat.retry", message_id=key)
            return pending.passive
        else:
            task = pending.task
        done, _ = await asyncio.wait({task}, timeout=PASSIVE_WINDOW_SECONDS)
        if pending.claimed:  # a retry of this message answered while we waited
            return pending.passive
        pending.claimed, pending.task = True, None  # from here a retry needs only the answer
        openid = raw(message).get("FromUserName", "")
        if done:
            replies = task.result()
            pending.passive = passive_text(replies)
            if pending.passive is not None or not replies:
                await self._after_turn(key, passive=True)
            else:
                self._spawn(self._send_queued(openid, key))
            return pending.passive
        log.info("wechat.turn.slow", message_id=key)
        self._spawn(self._typing(openid))
        self._spawn(self._send_queued(openid, key, task))
        return None

    async def _typing(self, openid: str) -> None:
        """Show "typing…" while a slow turn runs on (best effort: it is only a courtesy)."""
        try:
            await self.api.typing(openid)
        except (WeChatError, aiohttp.ClientError, asyncio.TimeoutError) as error:
            log.info("wechat.typing_failed", error=str(error))

    async def _turn(self, message: BaseMessage) -> list[Outbound]:
        try:
            inbound = await to_inbound(message, self._fetch_image, self._hear)
            inbound.outbox, inbound.outbox_hold_seconds = True, OUTBOX_HOLD_SECONDS
            if _opens_window(inbound):
                inbound.on_user.append(_open_window)
            if str(raw(message).get("MsgType", "")).lower() == "file":
                inbound.notices = [await self._file_answer(inbound.user_id)]
            return await limits.handle(self.runtime.engine, inbound)
        except Exception:  # the family must not be left without an answer by a bug here
            log.exception("wechat.turn.failed", message_id=message_key(message))
            return []

    async def _fetch_image(self, message: BaseMessage) -> Media | None:
        data = raw(message)
        name = f"wechat-{data.get('MsgId', 'image')}.jpg"
        # the media API first, the picture's URL if that fails
        for field, download in (("MediaId", self.api.download_media), ("PicUrl", self.api.download_url)):
            if not data.get(field):
                continue
            try:
                media = await download(str(data[field]))
                return Media(media.data, media.content_type, name)
            except (WeChatError, aiohttp.ClientError, asyncio.TimeoutError) as error:
                log.warning("wechat.image.failed", source=field, error=str(error))
        return None

    async def _file_answer(self, openid: str) -> Outbound:
        """A family cannot send a PDF to an official account: photos of each page, or the
        upload page (``bot/wechat/upload_page.py``) through a signed link."""
        async with transaction(self.runtime.sessions) as session:
            user = await conversations.get_or_create_user(session, CHANNEL, openid)
            lang = user.language or "zh"
            link = upload_link(self.settings.public_url, user.id)
        return Outbound.say(t(lang, "wechat.file_message", link=link))

    async def _hear(self, message: BaseMessage) -> str | None:
        """The words of a voice message WeChat did not recognise: its file is fetched at once
        (temporary media expire after 3 days) and read by the configured engine."""
        media_id = raw(message).get("MediaId")
        if self.speech is None or not media_id:
            return None
        try:
            media = await self.api.download_media(str(media_id))
        except (WeChatError, aiohttp.ClientError, asyncio.TimeoutError) as error:
            log.warning("wechat.voice.failed", error=str(error))
            return None
        return await self.speech.transcribe(media.data)

    def _forget_later(self, key: str) -> None:
        """A finished turn's message is remembered for WeChat's retries for a while (one entry in
        a queue, not a timer each)."""
        self._forgetting.append((asyncio.get_running_loop().time() + RETRY_MEMORY_SECONDS, key))

    def _forget_expired(self) -> None:
        now = asyncio.get_running_loop().time()
        while self._forgetting and self._forgetting[0][0] <= now:
            self._pending.pop(self._forgetting.popleft()[1], None)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait until every reply being delivered has been sent (shutdown, tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    # --- customer-service delivery --------------------------------------------------------

    async def _send_queued(self, openid: str, key: str, turn: asyncio.Task[list[Outbound]] | None = None) -> None:
        """Send the turn's queued replies now, through the customer-service API."""
        if turn is not None:
            await turn
        await self._after_turn(key, passive=False)
        await delivery.flush(self.runtime, CHANNEL, openid)

    async def _after_turn(self, key: str, *, passive: bool) -> None:
        """After a turn: its held replies settled as answered passively (committed before the
        passive reply leaves, so that the outbox never sends them again), or due now."""
        if passive:
            await self._answered(key)
            return
        async with self.runtime.db.begin() as connection:
            await delivery.settle_held(connection, [key], passive=False)

    async def deliver(self, openid: str, replies: list[Outbound], progress: Progress | None = None) -> None:
        """Send replies through the customer-service API, in order, after the ``progress.done``
        messages already sent. Outside the 48-hour window (45015) text goes as a template
        message when one is configured; a family who unfollowed raises ``Undeliverable``; any
        other failure is raised, so that the message is retried rather than counted as sent."""
        progress = progress or Progress()
        user_id, window = await self._window(openid)
        limit = MAX_MESSAGES if window is None else window.left + progress.done
        messages = await plan(replies, lambda reply: self._document_link(openid, reply), limit)
        for index, message in enumerate(messages):
            if index < progress.done:
                continue
            try:
                if window is not None and not window.open and isinstance(message, Text):
                    # the family's 5 messages are spent, or 48 hours passed: no use trying
                    await self._notify_outside_window(openid, message.content, WeChatError(45015, "window closed"))
                else:
                    await self._send_one(openid, message)
                    if user_id is not None:
                        async with transaction(self.runtime.sessions) as session:
                            await service_window.spend(session, user_id)
            except WeChatError as error:
                if error.errcode in PERMANENT_ERRORS:
                    raise Undeliverable(str(error)) from None
                raise
            await progress.sent(index + 1)

    async def _window(self, openid: str) -> tuple[int | None, service_window.Window | None]:
        async with self.runtime.sessions() as session:
            user_id = await session.scalar(select(ChannelUser.id).where(
                ChannelUser.channel == CHANNEL, ChannelUser.external_id == openid))
            return user_id, await service_window.current(session, user_id) if user_id else None

    async def _send_one(self, openid: str, message: Text | Image) -> None:
        if isinstance(message, Text):
            try:
                await self.api.send_text(openid, message.content)
            except WeChatError as error:
                if error.errcode not in OUTSIDE_WINDOW:
                    raise
                await self._notify_outside_window(openid, message.content, error)
        else:
            media_id = await self.api.upload_image(message.data, message.filename, message.content_type)
            await self.api.send_image(openid, media_id)

    async def _notify_outside_window(self, openid: str, text: str, refused: WeChatError) -> None:
        """Past the customer-service window: a subscription notification (订阅通知) when one is
        configured and the family accepted it, else a template message, else ``refused`` is
        raised (retried later: the family may write again and open the window)."""
        templates = load_templates()
        subscription = templates.get("subscribe") or {}
        if subscription.get("template_id"):
            try:
                await self.api.send_subscription(openid, subscription["template_id"],
                                                 subscription_values(subscription, text),
                                                 str(subscription.get("page") or ""))
                return
            except WeChatError as error:
                if error.errcode != NOT_SUBSCRIBED:
                    raise
                log.info("wechat.subscription.not_accepted", user=mask(openid))
                refused = error
        if not templates.get("template_id"):
            raise refused
        await self.api.send_template(openid, templates["template_id"], template_values(templates, text))

    async def _document_link(self, openid: str, reply: Outbound) -> str:
        """The signed download link of a document (stored now if the flow gave no link)."""
        if reply.url:
            return public_url(self.settings.public_url, reply.url) if reply.url.startswith("/") else reply.url
        async with transaction(self.runtime.sessions) as session:
            user_id = await session.scalar(select(ChannelUser.id).where(
                ChannelUser.channel == CHANNEL, ChannelUser.external_id == openid))
            artefact = await store_artefact(session, owner_kind="channel_user", owner_id=user_id or 0,
                                            kind="document", data=reply.data or b"",
                                            content_type=reply.content_type or "application/pdf")
        return public_url(self.settings.public_url, signed_path(artefact.id, reply.filename or "document.pdf"))


OUTSIDE_WINDOW = {45015, 45047}  # past 48 hours since the user's last message / too many replies
PERMANENT_ERRORS = {40003, 43004}  # not an openid of this account / the family unfollowed
NOT_SUBSCRIBED = 43101  # bizsend: the family has not accepted (or has refused) the subscription
THING_LIMIT = 20  # characters of a subscription notification's `thing` value
TEMPLATES_FILE = Path(__file__).with_name("templates.yaml")


def load_templates() -> dict[str, Any]:
    """The template-message settings: the hospital's ``wechat_templates.yaml``, else the packaged one."""
    override = get_settings().config_dir
    path = override / "wechat_templates.yaml" if override and (override / "wechat_templates.yaml").exists() \
        else TEMPLATES_FILE
    return yaml.safe_load(path.read_text("utf-8")) or {}


def template_values(template: dict[str, Any], text: str) -> dict[str, str]:
    """The notification's words in the template's fields (WeChat cuts long values itself)."""
    fields = template.get("fields", {})
    now = clock.local_now().strftime("%Y-%m-%d %H:%M")
    words = {"title": template.get("title", ""), "content": text[:200], "time": now,
             "remark": template.get("remark", "")}
    return {fields[name]: value for name, value in words.items() if fields.get(name)}


async def _settle_answered(connection: AsyncConnection, keys: list[str]) -> list[None]:
    await delivery.settle_held(connection, keys, passive=True)
    return [None] * len(keys)


async def _open_window(session: AsyncSession, user: ChannelUser) -> None:
    """In the turn's transaction: the family wrote, a fresh 48-hour window opens."""
    await service_window.opened(session, user.id)


def _opens_window(inbound: Inbound) -> bool:
    """What WeChat counts as the family writing: a message, a menu click, following, scanning."""
    if inbound.kind != "event":
        return True
    return inbound.event in ("subscribe", "start") or bool(inbound.event and inbound.event.startswith("menu:"))


def subscription_values(subscription: dict[str, Any], text: str) -> dict[str, str]:
    """The notification's words in the subscription template's keys, each within its kind's
    limit (``thing``: 20 characters; ``time``: a date and time as WeChat formats them)."""
    fields = subscription.get("fields", {})
    words = {"title": subscription.get("title", ""), "content": " ".join(text.split()),
             "time": clock.local_now().strftime("%Y-%m-%d %H:%M")}
    values: dict[str, str] = {}
    for name, value in words.items():
        key = fields.get(name)
        if not key:
            continue
        if key.startswith("thing") and len(value) > THING_LIMIT:
            value = value[:THING_LIMIT - 1] + "…"
        values[key] = value
    return values
