"""Signed, expiring download links for files the service made (e.g. the consent PDF).

WeChat cannot send a PDF to a family, so the chat carries a link instead; the file is stored
encrypted as an ``Artefact`` and served decrypted only with a valid, unexpired signature.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend.crypto import current_vault
from backend.models import Artefact
from backend.storage import read_decrypted, store_encrypted

DEFAULT_TTL = 7 * 24 * 3600


async def store_artefact(session: AsyncSession, *, owner_kind: str, owner_id: int, kind: str,
                         data: bytes, content_type: str) -> Artefact:
    path, digest = await store_encrypted(f"artefacts/{owner_kind}", data)
    artefact = Artefact(owner_kind=owner_kind, owner_id=owner_id, kind=kind, content_type=content_type,
                        sha256=digest, storage_path=path)
    session.add(artefact)
    await session.flush()
    return artefact


def signed_path(artefact_id: int, filename: str, ttl: int = DEFAULT_TTL, now: float | None = None) -> str:
    """``/d/<id>/<filename>?exp=…&sig=…`` — valid until ``exp`` (unix seconds)."""
    expires = int((now or time.time()) + ttl)
    signature = current_vault().sign(f"download:{artefact_id}:{expires}")
    return f"/d/{artefact_id}/{quote(filename)}?exp={expires}&sig={signature}"


def public_url(base: str, path: str) -> str:
    return base.rstrip("/") + path if base else path


def _valid(artefact_id: int, expires: str, signature: str) -> bool:
    if not expires.isdigit() or int(expires) < time.time():
        return False
    expected = current_vault().sign(f"download:{artefact_id}:{expires}")
    return hmac.compare_digest(expected, signature)


def download_handler(sessions):  # type: ignore[no-untyped-def]
    """The aiohttp handler serving ``/d/{id}/{name}`` to holders of a valid link."""

    async def handle(request: web.Request) -> web.Response:
        artefact_id = int(request.match_info["id"])
        if not _valid(artefact_id, request.query.get("exp", ""), request.query.get("sig", "")):
            raise web.HTTPForbidden(text="This link is invalid or has expired.")
        async with sessions() as session:
            artefact = await session.get(Artefact, artefact_id)
        if artefact is None:
            raise web.HTTPNotFound(text="No such file.")
        data = await read_decrypted(artefact.storage_path)
        if hashlib.sha256(data).hexdigest() != artefact.sha256:
            raise web.HTTPInternalServerError(text="Stored file does not match its hash.")
        name = request.match_info.get("name", "file")
        return web.Response(body=data, content_type=artefact.content_type, headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "private, no-store"})

    return handle
