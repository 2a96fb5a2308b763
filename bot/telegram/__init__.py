"""Telegram channel (issue #4): aiogram 3, long polling and webhook, one engine for all channels."""
from __future__ import annotations

from bot.telegram.cli import cli
from bot.telegram.webhook import setup

__all__ = ["cli", "setup"]
