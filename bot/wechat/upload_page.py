"""The upload page (H5) for families on WeChat: an official account cannot receive a PDF, so a
file message is answered with a signed link to this page, which takes PDFs and photos into the
same intake as if they had been sent in the chat (the replies follow in the chat).

``GET /u/{user}?exp=…&sig=…`` shows the form; ``POST`` the same URL takes the files. The link
names the family's channel user and expires; its signature is the service's keyed signature.
"""
from __future__ import annotations

import hmac
import html
import uuid
from datetime import timedelta

import structlog
from aiohttp import BodyPartReader, web

from backend import clock
from backend.artefacts import public_url
from backend.crypto import current_vault
from backend.models import ChannelUser
from bot import delivery, limits
from bot.runtime import Runtime
from flows.messages import t
from flows.types import Inbound, Media

log = structlog.get_logger(__name__)

LINK_TTL = timedelta(hours=24)
MAX_FILES = 10
PATH = "/u/{user:\\d+}"


def _signature(user_id: int, expires: int) -> str:
    return current_vault().sign(f"upload:{user_id}:{expires}")


def upload_link(base_url: str, user_id: int) -> str:
    """The family's upload page, valid for ``LINK_TTL``."""
    expires = int(clock.timestamp() + LINK_TTL.total_seconds())
    return public_url(base_url, f"/u/{user_id}?exp={expires}&sig={_signature(user_id, expires)}")


def _page(lang: str, body: str) -> web.Response:
    title = html.escape(t(lang, "upload_page.title"))
    return web.Response(content_type="text/html", charset="utf-8", text=(
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title}</title><style>body{{font:18px/1.6 sans-serif;margin:1.5em;max-width:32em}}"
        "button,input{font-size:18px;margin:.6em 0}</style></head>"
        f"<body><h1>{title}</h1>{body}</body></html>"), headers={"Cache-Control": "no-store"})


class UploadPage:
    """The handlers of the upload page, for one runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def _user(self, request: web.Request) -> ChannelUser:
        user_id, expires = int(request.match_info["user"]), request.query.get("exp", "")
        valid = expires.isdigit() and int(expires) >= clock.timestamp() and hmac.compare_digest(
            _signature(user_id, int(expires)), request.query.get("sig", ""))
        user = await self._load(user_id) if valid else None
        if user is None:
            raise web.HTTPForbidden(text=t("zh", "upload_page.expired"))
        return user

    async def _load(self, user_id: int) -> ChannelUser | None:
        async with self.runtime.sessions() as session:
            return await session.get(ChannelUser, user_id)

    async def form(self, request: web.Request) -> web.Response:
        user = await self._user(request)
        lang = user.language or "zh"
        action = html.escape(request.path_qs)
        return _page(lang, (
            f"<p>{html.escape(t(lang, 'upload_page.hint'))}</p>"
            f'<form method="post" enctype="multipart/form-data" action="{action}">'
            '<input type="file" name="file" multiple accept="application/pdf,image/jpeg,image/png"><br>'
            f'<button type="submit">{html.escape(t(lang, "upload_page.button"))}</button></form>'))

    async def upload(self, request: web.Request) -> web.Response:
        user = await self._user(request)
        lang = user.language or "zh"
        files = await self._files(request)
        if not files:
            raise web.HTTPBadRequest(text=t(lang, "upload_page.empty"))
        for media in files:  # one message each, as if sent one after the other in the chat
            kind = "file" if (media.content_type or "").endswith("pdf") else "image"
            inbound = Inbound(channel=user.channel, user_id=user.external_id, kind=kind, media=[media],
                              message_id=f"upload-{uuid.uuid4().hex}", language=user.language, outbox=True)
            await limits.handle(self.runtime.engine, inbound)
        await delivery.flush(self.runtime, user.channel, user.external_id)
        log.info("upload_page.received", files=len(files), channel=user.channel)
        return _page(lang, f"<p>{html.escape(t(lang, 'upload_page.done', count=len(files)))}</p>")

    async def _files(self, request: web.Request) -> list[Media]:
        """The files of the form, each within the upload size limit (413 otherwise)."""
        limit = self.runtime.settings.max_upload_bytes
        files: list[Media] = []
        try:
            reader = await request.multipart()
        except (AssertionError, ValueError, KeyError):
            raise web.HTTPBadRequest(text="multipart/form-data expected") from None
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name != "file" or not part.filename:
                continue
            if len(files) == MAX_FILES:
                raise web.HTTPRequestEntityTooLarge(max_size=MAX_FILES, actual_size=MAX_FILES + 1)
            data = bytearray()
            while chunk := await part.read_chunk(64 * 1024):
                data += chunk
                if len(data) > limit:
                    raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(data))
            if data:
                content_type = part.headers.get("Content-Type")
                files.append(Media(bytes(data), content_type, part.filename))
        return files


def setup(app: web.Application, runtime: Runtime) -> None:
    page = UploadPage(runtime)
    app.router.add_get(PATH, page.form)
    app.router.add_post(PATH, page.upload)
