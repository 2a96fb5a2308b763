"""Encryption at rest and blind indexes for personal data (DOMAIN.md: 个人隐私和信息安全保护)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.settings import Settings, get_settings

__all__ = ["Vault", "InvalidToken"]

# What values and files are sealed with: AES-256-GCM, a fresh 96-bit nonce each time, after this
# mark (a Fernet token, as written before, starts with "gAAAAA" and is still read). GCM with one
# key object is about five times cheaper than Fernet, which builds a cipher and an HMAC for every
# value; a chat turn seals about eight (its messages, the state, the outbox). Random nonces keep
# one key safe for 2^32 values (NIST SP 800-38D): some 400 million messages.
MARK = b"j1:"
_TEXT_MARK = MARK.decode()
_NONCE = 12


class Vault:
    """Encrypts values and files with keys derived from the service's secret key."""

    def __init__(self, secret_key: str) -> None:
        material = hashlib.sha256(b"jiahu-encryption:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(material))  # reads what was sealed before
        self._aead = AESGCM(hashlib.sha256(b"jiahu-encryption-gcm:" + secret_key.encode()).digest())
        self._index_key = hashlib.sha256(b"jiahu-index:" + secret_key.encode()).digest()
        self._audit_key = hashlib.sha256(b"jiahu-audit-chain:" + secret_key.encode()).digest()

    def _seal(self, data: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data, None)

    def _open(self, sealed: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], None)
        except (InvalidTag, ValueError):
            raise InvalidToken from None  # one failure for callers, whichever format

    def encrypt(self, data: bytes) -> bytes:
        return MARK + self._seal(data)

    def decrypt(self, token: bytes) -> bytes:
        if token.startswith(MARK):
            return self._open(token[len(MARK):])
        return self._fernet.decrypt(token)

    def encrypt_text(self, text: str) -> str:
        return _TEXT_MARK + base64.b64encode(self._seal(text.encode())).decode("ascii")

    def decrypt_text(self, token: str) -> str:
        if token.startswith(_TEXT_MARK):
            try:
                sealed = base64.b64decode(token[len(_TEXT_MARK):], validate=True)
            except (binascii.Error, ValueError):
                raise InvalidToken from None
            return self._open(sealed).decode()
        return self._fernet.decrypt(token.encode()).decode()

    def blind_index(self, value: str) -> str:
        """A keyed hash that lets staff search by an exact value without storing it in clear."""
        normalized = "".join(value.split()).upper()
        return hmac.new(self._index_key, normalized.encode(), hashlib.sha256).hexdigest()

    def sign(self, message: str) -> str:
        """A URL-safe HMAC signature, e.g. for expiring download links."""
        mac = hmac.new(self._index_key, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")


    def audit_mac(self, message: bytes) -> str:
        """The keyed hash of the audit chain (hex): nobody without the secret key can recompute it."""
        return hmac.new(self._audit_key, message, hashlib.sha256).hexdigest()


_current: tuple[Settings, str | None, Vault] | None = None


def current_vault() -> Vault:
    """The vault of this process, keyed by the configured secret key (a turn asks about ten
    times: the settings' vault is kept beside them until the settings or their key change)."""
    global _current
    settings = get_settings()
    held = _current
    if held is not None and held[0] is settings and held[1] == settings.secret_key:
        return held[2]
    vault = Vault(settings.ensure_secret_key())
    _current = (settings, settings.secret_key, vault)
    return vault


def mask(value: str | None, keep: int = 4) -> str:
    """Mask all but the last ``keep`` characters, for logs and documents."""
    if not value:
        return ""
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]
