"""The Telegram channel: updates in as ``Inbound``, ``Outbound`` replies out as Bot API calls.

Telegram delivers at least once, so every ``Inbound`` carries ``u<update_id>`` as its message
id and the engine drops a redelivered update, also across processes.
"""
from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from functools import cached_property, partial

import structlog
from aiogram import Bot, Dispatcher, Router
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
)
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ChatMemberUpdated,
    Document,
    InlineKeyboardMarkup,
    Message,
    PhotoSize,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
)
from aiogram.utils.chat_action import ChatActionSender

from backend.crypto import mask
from bot import limits
from bot.base import Channel, Progress, Undeliverable
from bot.telegram.keyboards import (
    Press,
    choices_text,
    contact_keyboard,
    inline_keyboard,
    label,
    language_keyboard,
    parse_press,
    selected_numbers,
    text_language,
    toggled,
)
from flows.engine import Engine
from flows.types import Inbound, Location, Media, Outbound

log = structlog.get_logger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API's getFile limit
TYPING_AFTER = 1.0  # seconds a turn runs before the chat shows "typing…"
INVALID_CONTEXT = "invalid"  # never a step: the engine answers "expired button" and re-asks

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
Flush = Callable[[str], Awaitable[None]]


def user_language(user: User | None) -> str | None:
    """``zh`` for any Chinese Telegram client, ``en`` for every other language."""
    if user is None or not user.language_code:
        return None
    return "zh" if user.language_code.lower().startswith("zh") else "en"


class TelegramChannel(Channel):
    """Feeds Telegram updates to the engine, one turn at a time per chat, and sends the replies."""

    name = CHANNEL

    def __init__(self, engine: Engine, bot: Bot, flush: Flush | None = None) -> None:
        self.engine = engine
        self.bot = bot
        self.flush = flush  # sends a chat's queued replies (bot/delivery.py)
        self._locks: dict[int, asyncio.Lock] = {}
        self._contact_keyboard: set[int] = set()

    @cached_property
    def dispatcher(self) -> Dispatcher:
        """The aiogram dispatcher routing messages, button presses and blocks to this channel."""
        router = Router(name=CHANNEL)
        router.message.register(self.on_message)
        router.callback_query.register(self.on_callback)
        router.my_chat_member.register(self.on_chat_member)
        dispatcher = Dispatcher()
        dispatcher.include_router(router)
        return dispatcher

    # --- updates in -----------------------------------------------------------------------

    async def on_message(self, message: Message, event_update: Update) -> None:
        if message.chat.type != "private":
            return
        async with self._lock(message.chat.id):
            if _command(message.text) == "lang" and not _command_argument(message.text):
                await self._deliver_safely(message.chat.id, self._send(
                    message.chat.id, "请选择语言 / Choose your language", language_keyboard()))
                return
            inbound = await self.inbound(message, f"u{event_update.update_id}")
            await self._turn(message.chat.id, inbound)

    async def on_callback(self, query: CallbackQuery, event_update: Update) -> None:
        """A pressed button. It is always answered; toggles of a multi-select only redraw the
        keyboard, everything else is a turn of the conversation."""
        press = parse_press(query.data or "")
        chat_id = query.message.chat.id if query.message else query.from_user.id
        markup = query.message.reply_markup if isinstance(query.message, Message) else None
        async with self._lock(chat_id):
            if press is not None and press.action == "toggle":
                await self._answer(query)
                if markup is not None and query.message is not None:
                    await self._call(self.bot.edit_message_reply_markup(
                        chat_id=chat_id, message_id=query.message.message_id,
                        reply_markup=toggled(markup, query.data or "")))
                return
            if press is not None and press.action == "done" and not selected_numbers(markup):
                await self._answer(query, label("multi", text_language(_message_text(query))))
                return
            await self._answer(query)
            base = Inbound(channel=CHANNEL, user_id=str(chat_id), kind="choice",
                           message_id=f"u{event_update.update_id}",
                           language=user_language(query.from_user),
                           display_name=query.from_user.full_name)
            await self._turn(chat_id, _press_inbound(base, press, markup))

    async def on_chat_member(self, update: ChatMemberUpdated, event_update: Update) -> None:
        """A family member who blocks the bot is marked unsubscribed (no more messages)."""
        if update.chat.type == "private" and update.new_chat_member.status == "kicked":
            await self.engine.handle(Inbound(
                channel=CHANNEL, user_id=str(update.chat.id), kind="event", event="unsubscribe",
                message_id=f"u{event_update.update_id}"))

    async def inbound(self, message: Message, message_id: str) -> Inbound:
        """What the family did, as the one shape every channel speaks."""
        inbound = Inbound(channel=CHANNEL, user_id=str(message.chat.id), message_id=message_id,
                          language=user_language(message.from_user),
                          display_name=message.from_user.full_name if message.from_user else None)
        if message.contact is not None:
            inbound.kind, inbound.text = "contact", _phone(message.contact.phone_number)
        elif message.text is not None:
            _apply_command(inbound, message.text)
        elif message.photo:
            largest = max(message.photo, key=lambda size: size.width * size.height)
            await self._attach(inbound, "image", largest, "image/jpeg",
                               f"photo-{largest.file_unique_id}.jpg")
        elif message.document is not None:
            document: Document = message.document
            await self._attach(inbound, "file", document, document.mime_type, document.file_name)
        elif message.voice is not None or message.audio is not None:
            inbound.kind = "voice"
        elif message.venue is not None:
            venue = message.venue
            inbound.kind = "location"
            inbound.location = Location(venue.location.latitude, venue.location.longitude,
                                        f"{venue.title} {venue.address}".strip())
        elif message.location is not None:
            inbound.kind = "location"
            inbound.location = Location(message.location.latitude, message.location.longitude)
        else:
            inbound.kind = "unsupported"
        return inbound

    async def _attach(self, inbound: Inbound, kind: str, file: PhotoSize | Document,
                      content_type: str | None, filename: str | None) -> None:
        """Download a photo or file; the flow checks its real type and size from the bytes."""
        if file.file_size and file.file_size > DOWNLOAD_LIMIT:
            log.info("telegram.file_too_large", size=file.file_size)
            inbound.kind = "unsupported"
            return
        try:
            downloaded = await self.bot.download(file.file_id)
        except (TelegramAPIError, OSError, asyncio.TimeoutError):
            log.exception("telegram.download_failed", user=mask(inbound.user_id))
            inbound.kind = "unsupported"
            return
        data = downloaded.read() if downloaded is not None else b""
        inbound.kind = kind
        inbound.media = [Media(data, content_type, filename)]

    async def _turn(self, chat_id: int, inbound: Inbound) -> None:
        if self.flush is None:  # no outbox wired (a bare channel): best effort
            await self._deliver_safely(chat_id, self.deliver(str(chat_id), await limits.handle(self.engine, inbound)))
            return
        inbound.outbox = True  # queued with the turn, then sent from the outbox at once
        # "typing…" in the chat while a slow turn runs (a file to check, a PDF to render)
        async with ChatActionSender.typing(bot=self.bot, chat_id=chat_id, initial_sleep=TYPING_AFTER):
            await limits.handle(self.engine, inbound)
        await self.flush(str(chat_id))

    def _lock(self, chat_id: int) -> asyncio.Lock:
        """Turns of one chat run in arrival order; different chats run side by side."""
        return self._locks.setdefault(chat_id, asyncio.Lock())

    # --- replies out ----------------------------------------------------------------------

    async def deliver(self, user_id: str, replies: list[Outbound], progress: Progress | None = None) -> None:
        """Send replies in order, after the ``progress.done`` Bot API sends already made; a
        chat that blocked the bot or no longer exists raises ``Undeliverable``, any other error
        (a 5xx, the network, flood control beyond its waits) is raised to be retried."""
        progress = progress or Progress()
        for index, send in enumerate(self._sends(int(user_id), replies)):
            if index < progress.done:
                continue
            try:
                await send()
            except (TelegramForbiddenError, TelegramNotFound, TelegramBadRequest) as refused:
                raise Undeliverable(f"telegram: {refused.message}") from None
            await progress.sent(index + 1)

    def _sends(self, chat_id: int, replies: list[Outbound]) -> list[Callable[[], Awaitable[object]]]:
        """One Bot API call per element, so that a retry can resume after the ones made."""
        sends: list[Callable[[], Awaitable[object]]] = []
        remove_contact = (chat_id in self._contact_keyboard
                          and not any(reply.request_contact for reply in replies))
        for reply in replies:
            markup: Markup | None = None
            if reply.request_contact:
                markup = contact_keyboard(text_language(reply.text))
                self._contact_keyboard.add(chat_id)
            elif reply.choices:
                markup = inline_keyboard(reply)
            elif remove_contact and reply.kind == "text":
                markup = ReplyKeyboardRemove()
                remove_contact = False
                self._contact_keyboard.discard(chat_id)
            sends += self._sends_of(chat_id, reply, markup)
        return sends

    async def _deliver_safely(self, chat_id: int, sending: Awaitable[None]) -> bool:
        """Send, logging errors instead of raising; ``False`` once the user blocked us."""
        try:
            await sending
        except (TelegramForbiddenError, Undeliverable):
            log.warning("telegram.blocked", chat=mask(str(chat_id)))
            return False
        except TelegramAPIError:
            log.exception("telegram.send_failed", chat=mask(str(chat_id)))
        return True

    def _sends_of(self, chat_id: int, reply: Outbound,
                  markup: Markup | None) -> list[Callable[[], Awaitable[object]]]:
        if reply.kind in ("document", "image") and reply.data is not None:
            caption = reply.text if len(reply.text) <= MAX_CAPTION else None
            file = BufferedInputFile(reply.data, filename=reply.filename or (
                "document.pdf" if reply.kind == "document" else "image.png"))
            send_file = self.bot.send_photo if reply.kind == "image" else self.bot.send_document
            sends: list[Callable[[], Awaitable[object]]] = [
                partial(send_file, chat_id, file, caption=caption or None)]
            if caption is None and reply.text:
                sends += self._texts(chat_id, reply.text, None)
            return sends
        text = choices_text(reply) if reply.choices else reply.text
        if reply.kind == "document" and reply.url:
            text = f"{text}\n{reply.url}".strip()
        return self._texts(chat_id, text, markup) if text else []

    def _texts(self, chat_id: int, text: str, markup: Markup | None) -> list[Callable[[], Awaitable[object]]]:
        chunks = list(_chunks(text))
        return [partial(self.bot.send_message, chat_id, chunk,
                        reply_markup=markup if index == len(chunks) - 1 else None)
                for index, chunk in enumerate(chunks)]

    async def _send(self, chat_id: int, text: str, markup: Markup | None) -> None:
        for send in self._texts(chat_id, text, markup):
            await send()

    async def _answer(self, query: CallbackQuery, text: str | None = None) -> None:
        """Always answer a button press, so the client stops its spinner."""
        await self._call(self.bot.answer_callback_query(query.id, text=text))

    async def _call(self, request: object) -> None:
        try:
            await request  # type: ignore[misc]
        except TelegramAPIError as error:
            log.info("telegram.call_failed", error=str(error))


def _press_inbound(base: Inbound, press: Press | None,
                   markup: InlineKeyboardMarkup | None) -> Inbound:
    """A button press for the engine; a malformed one names no step, so the engine treats it as
    an expired button and shows the current question."""
    if press is None:
        base.choice_context = INVALID_CONTEXT
    elif press.action == "lang":
        base.kind, base.text = "text", "中文" if press.value == "zh" else "English"
    elif press.action == "choice":
        base.choice, base.choice_context = press.value, press.context
    elif press.action == "number":
        base.text, base.choice_context = press.value, press.context
    else:  # done: the selected toggles, as typed numbers ("1,3")
        base.text = ",".join(str(n) for n in selected_numbers(markup))
        base.choice_context = press.context
    if press is not None and press.context is None and press.action != "lang":
        base.choice_context = None
    return base


_COMMANDS = {"start", "help", "status", "cancel", "human", "lang"}


def _command(text: str | None) -> str | None:
    """``/start``, ``/help@jiahu_bot`` … → the command name, for the commands this bot knows."""
    if not text or not text.startswith("/"):
        return None
    name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
    return name if name in _COMMANDS else None


def _command_argument(text: str | None) -> str:
    parts = (text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def _apply_command(inbound: Inbound, text: str) -> None:
    """Bot commands become the events and words the engine already understands."""
    command = _command(text)
    english = inbound.language == "en"
    inbound.kind, inbound.text = "text", text
    if command == "start":
        inbound.kind, inbound.event, inbound.text = "event", "start", None
    elif command in ("status", "human"):
        inbound.kind, inbound.event, inbound.text = "event", f"menu:{command}", None
    elif command == "help":
        inbound.text = "help" if english else "帮助"
    elif command == "cancel":
        inbound.text = "cancel" if english else "取消"
    elif command == "lang":
        wanted = _command_argument(text).lower()
        inbound.text = "English" if wanted.startswith("en") else "中文"


def _phone(number: str) -> str:
    """A shared contact's number as the flow reads it. Telegram sends it with or without ``+``
    and the country code: a bare Chinese mobile number (11 digits, 1…) stays as it is, every
    other number gets its ``+``."""
    digits = re.sub(r"\D", "", number)
    if len(digits) == 11 and digits.startswith("1") and not number.strip().startswith("+"):
        return digits
    return f"+{digits}"


def _message_text(query: CallbackQuery) -> str:
    return query.message.text or "" if isinstance(query.message, Message) else ""


def _chunks(text: str) -> Iterator[str]:
    while len(text) > MAX_TEXT:
        cut = text.rfind("\n", MAX_TEXT // 2, MAX_TEXT)  # prefer a line break late in the chunk
        cut = cut if cut > 0 else MAX_TEXT
        yield text[:cut]
        text = text[cut:].lstrip("\n")
    yield text
