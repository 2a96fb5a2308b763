"""Files the service makes (the sealed consent PDF), stored encrypted, shared by signed links."""
from __future__ import annotations

from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock
from backend.crypto import current_vault
from backend.models import Artefact
from backend.storage import store_encrypted

DEFAULT_TTL = 7 * 24 * 3600


async def store_artefact(session: AsyncSession, *, owner_kind: str, owner_id: int, kind: str,
                         data: bytes, content_type: str) -> Artefact:
    path, digest = await store_encrypted(f"artefacts/{owner_kind}", data)
    artefact = Artefact(owner_kind=owner_kind, owner_id=owner_id, kind=kind, content_type=content_type,
                        sha256=digest, storage_path=path)
    session.add(artefact)
    await session.flush()
    return artefact


def link_signature(artefact_id: int, expires: int) -> str:
    return current_vault().sign(f"download:{artefact_id}:{expires}")


def signed_path(artefact_id: int, filename: str, ttl: int = DEFAULT_TTL, now: float | None = None) -> str:
    """``/d/<id>/<filename>?exp=…&sig=…`` — valid until ``exp`` (unix seconds)."""
    expires = int((now or clock.timestamp()) + ttl)
    return f"/d/{artefact_id}/{quote(filename)}?exp={expires}&sig={link_signature(artefact_id, expires)}"


def public_url(base: str, path: str) -> str:
    return base.rstrip("/") + path if base else path
