"""The try-out channel: ``/try``, a phone-chat web page driving the same flows as WeChat.

A hospital can try the service and staff can train without a WeChat account; every
conversation is marked as a try-out in the transcripts (``ChannelUser.is_tryout``).
"""
from __future__ import annotations

from aiohttp import web

from bot.runtime import Runtime
from bot.tryout.mailbox import Mailbox
from bot.tryout.views import CHANNEL, TryoutViews

__all__ = ["CHANNEL", "Mailbox", "TryoutViews", "setup"]


def setup(app: web.Application, runtime: Runtime) -> None:
    """Register ``/try`` (page, script, style) and its JSON API under ``/try/api/``, and the
    channel's sender, so notifications for try-out users wait in a mailbox for the page."""
    mailbox = Mailbox()
    runtime.senders[CHANNEL] = mailbox.deliver
    views = TryoutViews(runtime, mailbox)
    app.router.add_get("/try", views.page)
    app.router.add_get("/try/chat.js", views.script)
    app.router.add_get("/try/chat.css", views.style)
    app.router.add_post("/try/api/start", views.start)
    app.router.add_post("/try/api/message", views.message)
    app.router.add_post("/try/api/upload", views.upload)
    app.router.add_post("/try/api/updates", views.updates)
    app.router.add_post("/try/api/reset", views.reset)
