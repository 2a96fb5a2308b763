"""``jiahu telegram …``: long polling on a laptop, and registering the webhook of a server."""
from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated

import typer
from aiogram import Bot

from backend.logs import configure_logging
from backend.settings import Settings, get_settings
from bot.telegram.channel import TelegramChannel
from bot.telegram.client import bot_from_settings, set_commands, webhook_secret
from bot.telegram.webhook import WEBHOOK_PATH

cli = typer.Typer(help="Telegram bot (create it with @BotFather, set JIAHU_TELEGRAM_TOKEN).",
                  no_args_is_help=True)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


async def run_polling(channel: TelegramChannel, *, polling_timeout: int = 30,
                      handle_signals: bool = True) -> None:
    """Fetch updates with getUpdates until stopped (Ctrl-C); removes a webhook first, since
    Telegram serves a bot either by webhook or by polling."""
    bot = channel.bot
    await bot.delete_webhook()
    await set_commands(bot)
    await channel.dispatcher.start_polling(bot, polling_timeout=polling_timeout,
                                             handle_signals=handle_signals,
                                             allowed_updates=ALLOWED_UPDATES)


async def register_webhook(bot: Bot, settings: Settings, url: str) -> None:
    await bot.set_webhook(url, secret_token=webhook_secret(settings),
                          allowed_updates=ALLOWED_UPDATES)
    await set_commands(bot)


def _bot(settings: Settings) -> Bot:
    try:
        return bot_from_settings(settings)
    except RuntimeError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


@cli.command()
def poll() -> None:
    """Run the bot with long polling (no public URL needed)."""
    from bot.runtime import open_runtime, settle_heap

    settings = get_settings()
    configure_logging(settings.log_level)
    bot = _bot(settings)

    async def run() -> None:
        from bot import delivery
        from bot.notifier import run_workers

        runtime = await open_runtime(settings)
        settle_heap()
        channel = TelegramChannel(runtime.engine, bot, flush=partial(delivery.flush, runtime, "telegram"))
        runtime.senders["telegram"] = channel.deliver
        workers = asyncio.create_task(run_workers(runtime))  # queued notifications, the consent PDF
        try:
            await run_polling(channel)
        finally:
            workers.cancel()
            await runtime.close()

    asyncio.run(run())


@cli.command("set-webhook")
def set_webhook(url: Annotated[str | None, typer.Argument(
        help=f"Public https URL of the webhook (default: JIAHU_PUBLIC_URL + {WEBHOOK_PATH}).",
)] = None) -> None:
    """Tell Telegram to deliver updates to ``jiahu serve`` (with the secret token)."""
    settings = get_settings()
    target = url or (settings.public_url.rstrip("/") + WEBHOOK_PATH if settings.public_url else "")
    if not target.startswith("https://"):
        raise typer.BadParameter("give the public https:// URL of /telegram/webhook "
                                 "(or set JIAHU_PUBLIC_URL)")
    bot = _bot(settings)

    async def run() -> None:
        async with bot:
            await register_webhook(bot, settings, target)

    asyncio.run(run())
    typer.echo(f"webhook set: {target}")


@cli.command("delete-webhook")
def delete_webhook() -> None:
    """Stop webhook delivery (e.g. to switch back to ``jiahu telegram poll``)."""
    bot = _bot(get_settings())

    async def run() -> None:
        async with bot:
            await bot.delete_webhook()

    asyncio.run(run())
    typer.echo("webhook deleted")
