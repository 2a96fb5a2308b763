"""Files on local disk under ``DATA_DIR``, encrypted at rest, addressed by a relative path."""
from __future__ import annotations

import asyncio
import hashlib
import uuid
from pathlib import Path

import filetype

from backend.crypto import current_vault
from backend.settings import get_settings


def sniff_content_type(data: bytes) -> str | None:
    """The content type told by the bytes themselves, never by a file name."""
    kind = filetype.guess(data)
    return kind.mime if kind else None


def _root() -> Path:
    return get_settings().data_dir / "files"


def _write(relative: str, data: bytes) -> None:
    path = _root() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(current_vault().encrypt(data))
    tmp.replace(path)


def store_encrypted_sync(folder: str, data: bytes) -> tuple[str, str]:
    """Encrypt and store bytes (blocking); returns (relative path, sha256 of the clear bytes)."""
    relative = f"{folder}/{uuid.uuid4().hex}.bin"
    _write(relative, data)
    return relative, hashlib.sha256(data).hexdigest()


async def store_encrypted(folder: str, data: bytes) -> tuple[str, str]:
    """Encrypt and store bytes in a thread; returns (relative path, sha256 of the clear bytes)."""
    return await asyncio.to_thread(store_encrypted_sync, folder, data)


def remove_sync(relative: str) -> None:
    """Delete a stored file (blocking); nothing happens if it is gone already."""
    (_root() / relative).unlink(missing_ok=True)


def read_decrypted_sync(relative: str) -> bytes:
    return current_vault().decrypt((_root() / relative).read_bytes())


async def read_decrypted(relative: str) -> bytes:
    return await asyncio.to_thread(read_decrypted_sync, relative)
