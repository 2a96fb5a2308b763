"""Files the service makes (the sealed consent PDF), stored encrypted, shared by signed links.

A file is written before its row is inserted, so a recorded artefact always has its file. Large
files can be encrypted and written ahead, in another process (``store_file``), and recorded in a
short transaction later (``record_artefacts``); the caller discards them if that transaction fails.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock
from backend.crypto import current_vault
from backend.models import Artefact
from backend.storage import remove_sync, store_encrypted_sync

DEFAULT_TTL = 7 * 24 * 3600


@dataclass(frozen=True)
class StoredFile:
    """An artefact's file, encrypted and written, not recorded yet."""

    path: str  # relative to the data directory's files
    sha256: str  # of the clear bytes


def store_file(owner_kind: str, data: bytes) -> StoredFile:
    """Encrypt and write an artefact's file (blocking: a thread or the rendering process)."""
    path, digest = store_encrypted_sync(f"artefacts/{owner_kind}", data)
    return StoredFile(path, digest)


def discard_files(files: Iterable[StoredFile]) -> None:
    """Delete files written for artefacts that were never recorded (blocking)."""
    for stored in files:
        remove_sync(stored.path)


async def record_artefacts(session: AsyncSession, *, owner_kind: str, owner_id: int, kind: str,
                           content_type: str, files: Sequence[StoredFile]) -> list[Artefact]:
    """Rows for files already stored, inserted with one flush (their ids are set)."""
    artefacts = [Artefact(owner_kind=owner_kind, owner_id=owner_id, kind=kind, content_type=content_type,
                          sha256=stored.sha256, storage_path=stored.path) for stored in files]
    session.add_all(artefacts)
    await session.flush()
    return artefacts


async def store_artefact(session: AsyncSession, *, owner_kind: str, owner_id: int, kind: str,
                         data: bytes, content_type: str) -> Artefact:
    """Encrypt and write a file in a thread, then insert its row."""
    stored = await asyncio.to_thread(store_file, owner_kind, data)
    [artefact] = await record_artefacts(session, owner_kind=owner_kind, owner_id=owner_id, kind=kind,
                                        content_type=content_type, files=[stored])
    return artefact


def link_signature(artefact_id: int, expires: int) -> str:
    return current_vault().sign(f"download:{artefact_id}:{expires}")


def signed_path(artefact_id: int, filename: str, ttl: int = DEFAULT_TTL, now: float | None = None) -> str:
    """``/d/<id>/<filename>?exp=…&sig=…`` — valid until ``exp`` (unix seconds)."""
    expires = int((now or clock.timestamp()) + ttl)
    return f"/d/{artefact_id}/{quote(filename)}?exp={expires}&sig={link_signature(artefact_id, expires)}"


def public_url(base: str, path: str) -> str:
    return base.rstrip("/") + path if base else path
