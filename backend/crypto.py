"""Encryption at rest and blind indexes for personal data (DOMAIN.md: 个人隐私和信息安全保护)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["Vault", "InvalidToken"]


class Vault:
    """Encrypts values and files with a key derived from the service's secret key."""

    def __init__(self, secret_key: str) -> None:
        material = hashlib.sha256(b"jiahu-encryption:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(material))
        self._index_key = hashlib.sha256(b"jiahu-index:" + secret_key.encode()).digest()
        self._audit_key = hashlib.sha256(b"jiahu-audit-chain:" + secret_key.encode()).digest()

    def encrypt(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        return self._fernet.decrypt(token)

    def encrypt_text(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt_text(self, token: str) -> str:
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


@lru_cache(maxsize=8)
def vault_for(secret_key: str) -> Vault:
    return Vault(secret_key)


def current_vault() -> Vault:
    """The vault of this process, keyed by the configured secret key."""
    from backend.settings import get_settings

    return vault_for(get_settings().ensure_secret_key())


def mask(value: str | None, keep: int = 4) -> str:
    """Mask all but the last ``keep`` characters, for logs and documents."""
    if not value:
        return ""
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]
