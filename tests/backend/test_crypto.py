"""Encryption at rest: AES-256-GCM for what is sealed now, Fernet tokens sealed before still read."""
from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.fernet import Fernet

from backend.crypto import MARK, InvalidToken, Vault


def _fernet_of(secret_key: str) -> Fernet:
    """The Fernet key of a vault before GCM (jiahu sealed every value with it until 2026-11-30)."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"jiahu-encryption:" + secret_key.encode()).digest()))


def test_text_and_files_round_trip_sealed_afresh_each_time() -> None:
    vault = Vault("k1")
    first, second = vault.encrypt_text("张秀英 11010519491231002X"), vault.encrypt_text("张秀英 11010519491231002X")
    assert first.startswith(MARK.decode()) and first != second  # a fresh nonce each time
    assert "1101" not in first and vault.decrypt_text(first) == "张秀英 11010519491231002X"
    data = bytes(range(256)) * 40
    sealed = vault.encrypt(data)
    assert sealed.startswith(MARK) and data not in sealed and vault.decrypt(sealed) == data
    assert len(sealed) == len(MARK) + 12 + len(data) + 16  # nonce and tag, nothing else


def test_values_and_files_sealed_with_fernet_before_are_still_read() -> None:
    old = _fernet_of("k1")
    vault = Vault("k1")
    assert vault.decrypt_text(old.encrypt("13800138000".encode()).decode()) == "13800138000"
    assert vault.decrypt(old.encrypt(b"%PDF-1.7 ...")) == b"%PDF-1.7 ..."


@pytest.mark.parametrize("spoil", [
    lambda token: token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1],  # a changed byte
    lambda token: token[:20],  # cut short
    lambda token: token + "!",  # not base64
    lambda token: "j1:",  # empty
])
def test_a_spoilt_value_is_refused(spoil) -> None:
    vault = Vault("k1")
    with pytest.raises(InvalidToken):
        vault.decrypt_text(spoil(vault.encrypt_text("11010519491231002X")))


def test_another_key_cannot_read_either_format() -> None:
    with pytest.raises(InvalidToken):
        Vault("k2").decrypt_text(Vault("k1").encrypt_text("secret"))
    with pytest.raises(InvalidToken):
        Vault("k2").decrypt(Vault("k1").encrypt(b"secret"))
    with pytest.raises(InvalidToken):
        Vault("k2").decrypt_text(_fernet_of("k1").encrypt(b"secret").decode())


async def test_a_transcript_written_before_reads_beside_one_written_now(database_url: str) -> None:
    from sqlalchemy import select, text

    from backend import conversations
    from backend.db import make_engine, make_sessionmaker, transaction
    from backend.models import TranscriptEntry
    from backend.settings import get_settings

    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        async with transaction(sessions) as session:
            user = await conversations.get_or_create_user(session, "wechat", "oWx_family")
            await conversations.record_outbound(session, user, [("text", "您好，请问老人的身份证号？", None)])
            old = _fernet_of(get_settings().ensure_secret_key()).encrypt("11010519491231002X".encode()).decode()
            await session.execute(text(
                "INSERT INTO transcript (channel_user_id, channel, direction, kind, text, author, created_at) "
                "VALUES (:user, 'wechat', 'in', 'text', :old, 'family', CURRENT_TIMESTAMP)"), {"user": user.id, "old": old})
        async with transaction(sessions) as session:
            stored = (await session.execute(text("SELECT text FROM transcript ORDER BY id"))).scalars().all()
            assert stored[0].startswith("j1:") and stored[1].startswith("gAAAAA")
            entries = (await session.execute(select(TranscriptEntry).order_by(TranscriptEntry.id))).scalars().all()
            assert [entry.text for entry in entries] == ["您好，请问老人的身份证号？", "11010519491231002X"]
    finally:
        await engine.dispose()
