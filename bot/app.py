"""The aiohttp application of ``jiahu serve``: health, channel webhooks, API and console."""
from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiohttp import web

from backend import api, console
from backend.db import ping
from backend.sqlite_wal import WalCheckpointer, database_path
from backend.web.auth import SESSIONS
from bot import telegram, tryout, wechat
from bot.downloads import download_handler
from bot.notifier import run_workers
from bot.runtime import Runtime
from documents import render

RUNTIME = web.AppKey("runtime", Runtime)
log = structlog.get_logger(__name__)


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 otherwise (for load balancers and ``make run``)."""
    runtime = request.app[RUNTIME]
    if await ping(runtime.db):
        return web.json_response({"status": "ok", "database": runtime.db.dialect.name})
    return web.json_response({"status": "unavailable", "database": runtime.db.dialect.name}, status=503)


async def _warm_rendering() -> None:
    """Start the rendering process with one consent, so the first family's PDF does not wait."""
    try:
        await render.warm()
    except Exception:  # noqa: BLE001 - sealing jobs will say what is wrong, and be retried
        log.exception("pdf.warm_up_failed")


def create_app(runtime: Runtime, *, background: bool = False) -> web.Application:
    """The app; ``background`` starts the outbox workers and, on SQLite, the WAL checkpoints
    (``jiahu serve`` does)."""
    app = web.Application(client_max_size=runtime.settings.max_upload_bytes + 1024 * 1024)
    app[RUNTIME] = runtime
    app[SESSIONS] = runtime.sessions
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/d/{id:\\d+}/{name}", download_handler(runtime.sessions))
    wechat.setup(app, runtime)
    telegram.setup(app, runtime)
    tryout.setup(app, runtime)
    api.setup(app)
    console.setup(app)

    async def _workers(app: web.Application):  # type: ignore[no-untyped-def]
        warming = asyncio.create_task(_warm_rendering())
        task = asyncio.create_task(run_workers(runtime))
        database = database_path(runtime.db.url)
        checkpointer = WalCheckpointer(database).start() if database else None
        yield
        for running in (task, warming):
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
        if checkpointer:
            await asyncio.to_thread(checkpointer.stop)
        render.shutdown()

    async def _close(app: web.Application) -> None:
        await runtime.close()

    if background:
        app.cleanup_ctx.append(_workers)
    app.on_cleanup.append(_close)
    return app
