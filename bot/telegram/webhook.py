"""Webhook mode: ``POST /telegram/webhook`` on the ``jiahu serve`` app."""
from __future__ import annotations

import hmac
import json
from functools import partial

import structlog
from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot import delivery
from bot.telegram.channel import TelegramChannel
from bot.telegram.client import bot_from_settings, webhook_secret

log = structlog.get_logger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_handler(bot: Bot, dispatcher: Dispatcher, secret: str):  # type: ignore[no-untyped-def]
    """Accepts updates that carry the secret token given to ``setWebhook``; 403 for others.

    The update is handled before the answer, so a failure makes Telegram redeliver it (the
    engine drops the copy if the first delivery had got through).
    """

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        # a header is decoded leniently; any character that is not plain ASCII is simply wrong
        if not hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode()):
            log.warning("telegram.webhook_forbidden", remote=request.remote)
            raise web.HTTPForbidden(text="wrong secret token")
        try:
            update = Update.model_validate(json.loads(await request.read()), context={"bot": bot})
        except (ValueError, ValidationError, RecursionError) as error:  # bad UTF-8 or JSON too
            log.warning("telegram.webhook_bad_update", error=type(error).__name__)
            raise web.HTTPBadRequest(text="not a Telegram update") from None
        await dispatcher.feed_webhook_update(bot, update)
        return web.json_response({})

    return handle


def setup(app: web.Application, runtime: object) -> None:
    """Register the Telegram webhook on the app when ``JIAHU_TELEGRAM_TOKEN`` is set."""
    from bot.runtime import Runtime

    assert isinstance(runtime, Runtime)
    settings = runtime.settings
    if not settings.telegram_token:
        return
    bot = bot_from_settings(settings)
    channel = TelegramChannel(runtime.engine, bot, flush=partial(delivery.flush, runtime, "telegram"))
    runtime.senders["telegram"] = channel.deliver  # queued notifications reach the chat
    handler = webhook_handler(bot, channel.dispatcher, webhook_secret(settings))
    app.router.add_post(WEBHOOK_PATH, handler)

    async def close(app: web.Application) -> None:
        await bot.session.close()

    app.on_cleanup.append(close)
    log.info("telegram.webhook_ready", path=WEBHOOK_PATH)
