"""Telegram channel (issue #4): aiogram 3, polling and webhook."""
from __future__ import annotations

import typer
from aiohttp import web

cli = typer.Typer(help="Telegram bot.", no_args_is_help=True)


def setup(app: web.Application, runtime: object) -> None:
    """Register the Telegram webhook on the app when the channel is configured."""
