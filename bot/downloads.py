"""Signed, expiring download links for files the service made (e.g. the consent PDF).

WeChat cannot send a PDF to a family, so the chat carries a link instead; the file is stored
encrypted as an ``Artefact`` and served decrypted only with a valid, unexpired signature.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import web

from backend import clock
from backend.artefacts import DEFAULT_TTL, link_signature, public_url, signed_path, store_artefact
from backend.models import Artefact, Consent
from backend.storage import read_decrypted

__all__ = ["DEFAULT_TTL", "download_handler", "public_url", "signed_path", "store_artefact"]

OPENED_EVERY = timedelta(hours=1)
"""A consent's audit trail records an opening via link at most this often (links get reloaded)."""


def _opened_recently(events: list[dict[str, Any]]) -> bool:
    last = next((e for e in reversed(events) if e.get("event") == "opened"), None)
    if last is None:
        return False
    try:
        return clock.now() - datetime.fromisoformat(str(last["at"])) < OPENED_EVERY
    except (KeyError, ValueError, TypeError):
        return False


def _valid(artefact_id: int, expires: str, signature: str) -> bool:
    if not expires.isdigit() or int(expires) < clock.timestamp():
        return False
    return hmac.compare_digest(link_signature(artefact_id, int(expires)), signature)


def download_handler(sessions):  # type: ignore[no-untyped-def]
    """The aiohttp handler serving ``/d/{id}/{name}`` to holders of a valid link."""

    async def handle(request: web.Request) -> web.Response:
        artefact_id = int(request.match_info["id"])
        if not _valid(artefact_id, request.query.get("exp", ""), request.query.get("sig", "")):
            raise web.HTTPForbidden(text="This link is invalid or has expired.")
        async with sessions() as session, session.begin():
            artefact = await session.get(Artefact, artefact_id)
            if artefact is not None and artefact.owner_kind == "consent":
                consent = await session.get(Consent, artefact.owner_id)
                if consent is not None and not _opened_recently(consent.events):  # "opened via link"
                    consent.events = [*consent.events, {"event": "opened", "at": clock.now().isoformat(),
                                                        "channel": "web"}]
        if artefact is None:
            raise web.HTTPNotFound(text="No such file.")
        data = await read_decrypted(artefact.storage_path)
        if hashlib.sha256(data).hexdigest() != artefact.sha256:
            raise web.HTTPInternalServerError(text="Stored file does not match its hash.")
        name = request.match_info.get("name", "file")
        # the type as stored, charset included ("text/html; charset=utf-8" for the readable page)
        headers = {"Content-Type": artefact.content_type, "X-Content-Type-Options": "nosniff",
                   "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}",
                   "Cache-Control": "private, no-store"}
        if artefact.content_type.startswith("text/html"):  # our own page: nothing runs, nothing loads
            headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
        return web.Response(body=data, headers=headers)

    return handle
