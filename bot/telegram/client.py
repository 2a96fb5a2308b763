"""The aiogram ``Bot`` of jiahu: its API server, flood-control retries and its command menu."""
from __future__ import annotations

import asyncio
import hashlib

import structlog
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import BotCommand, Update
from pydantic import ValidationError

from backend.settings import Settings

log = structlog.get_logger(__name__)

MAX_RETRIES = 3
MAX_RETRY_AFTER = 60  # seconds; longer waits would stall a conversation, so give up instead

COMMANDS = {
    "zh": [("start", "开始 / 回到主菜单"), ("status", "查询我的预约"), ("cancel", "取消当前操作"),
           ("human", "转人工客服"), ("help", "帮助"), ("lang", "切换语言 / Language")],
    "en": [("start", "Start / main menu"), ("status", "My bookings"),
           ("cancel", "Cancel what I am doing"), ("human", "Talk to a person"), ("help", "Help"),
           ("lang", "Language / 语言")],
}


class RetryAfterMiddleware(BaseRequestMiddleware):
    """Waits out Telegram's flood control (HTTP 429 with ``retry_after``), a bounded number
    of times, for every Bot API call."""

    def __init__(self, retries: int = MAX_RETRIES, max_wait: float = MAX_RETRY_AFTER) -> None:
        self.retries = retries
        self.max_wait = max_wait

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        for attempt in range(1, self.retries + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt == self.retries or error.retry_after > self.max_wait:
                    raise
                log.warning("telegram.retry_after", method=method.__api_method__,
                            retry_after=error.retry_after, attempt=attempt)
                await asyncio.sleep(error.retry_after)
        raise AssertionError("unreachable")  # pragma: no cover


class SkippingSession(AiohttpSession):
    """aiogram's session, except that ``getUpdates`` reads each update on its own: one that does
    not parse is skipped with a log line (and confirmed, by moving the offset past it) instead
    of failing the whole batch, which would make long polling fetch it again for ever."""

    def check_response(self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int,
                       content: str) -> Response[TelegramType]:
        if isinstance(method, GetUpdates):
            updates = self._updates(bot, method, content)
            if updates is not None:
                return Response[list[Update]](ok=True, result=updates)  # type: ignore[return-value]
        return super().check_response(bot, method, status_code, content)

    def _updates(self, bot: Bot, method: GetUpdates, content: str) -> list[Update] | None:
        """The updates that parse, or None when the answer is not a list of updates at all."""
        try:
            data = self.json_loads(content)
        except ValueError:
            return None
        if not (isinstance(data, dict) and data.get("ok") and isinstance(data.get("result"), list)):
            return None
        updates: list[Update] = []
        for item in data["result"]:
            try:
                updates.append(Update.model_validate(item, context={"bot": bot}))
            except ValidationError as error:
                update_id = item.get("update_id") if isinstance(item, dict) else None
                log.warning("telegram.update_skipped", update_id=update_id, errors=error.error_count())
                if isinstance(update_id, int):
                    method.offset = max(method.offset or 0, update_id + 1)
        return updates


def make_bot(token: str, api_url: str = "https://api.telegram.org") -> Bot:
    """A bot talking to ``api_url`` (Telegram, a local Bot API server, or a test fake)."""
    session = SkippingSession(api=TelegramAPIServer.from_base(api_url))
    session.middleware(RetryAfterMiddleware())
    return Bot(token=token, session=session)


def bot_from_settings(settings: Settings) -> Bot:
    if not settings.telegram_token:
        raise RuntimeError("JIAHU_TELEGRAM_TOKEN is not set (create a bot with @BotFather).")
    return make_bot(settings.telegram_token, settings.telegram_api_url)


def webhook_secret(settings: Settings) -> str:
    """The ``X-Telegram-Bot-Api-Secret-Token`` Telegram must send: the configured one, or one
    derived from the secret key and the bot token, so no extra setting is needed."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    seed = f"telegram-webhook:{settings.ensure_secret_key()}:{settings.telegram_token}"
    return hashlib.sha256(seed.encode()).hexdigest()


async def set_commands(bot: Bot) -> None:
    """The ``/`` menu, in Chinese for Chinese clients and in English for everyone else."""
    for lang, language_code in (("en", None), ("zh", "zh")):
        commands = [BotCommand(command=name, description=text) for name, text in COMMANDS[lang]]
        await bot.set_my_commands(commands, language_code=language_code)
