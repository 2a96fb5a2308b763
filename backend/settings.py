"""Every setting of jiahu, read from the environment with the ``JIAHU_`` prefix."""
from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

import structlog
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

log = structlog.get_logger(__name__)


class Settings(BaseSettings):
    """Process-wide configuration. Defaults run on one machine with no outside service."""

    model_config = SettingsConfigDict(env_prefix="JIAHU_", env_file=".env", extra="ignore")

    database_url: str = ""
    data_dir: Path = Path("./var")
    config_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    secret_key: str = ""
    public_url: str = ""
    log_level: str = "INFO"
    max_upload_bytes: int = 10 * 1024 * 1024

    rasa_url: str = ""
    rasa_timeout: float = 0.5

    signing_cert: Path | None = None
    signing_key: Path | None = None
    signing_key_passphrase: str = ""
    tsa_url: str = ""  # an RFC 3161 time-stamping authority: seals become PAdES B-T
    tsa_trust: Path | None = None  # the TSA's root certificate (PEM), for `jiahu consent verify`

    wechat_token: str = ""
    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_aes_key: str = ""
    wechat_allow_plain: bool = False  # with an AES key: also accept plain (明文) pushes
    wechat_api_url: str = "https://api.weixin.qq.com"

    telegram_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_url: str = "https://api.telegram.org"

    hospital_webhook_url: str = ""
    hospital_webhook_fhir: Literal["", "masked", "full"] = ""  # booking events carry the FHIR bundle

    # speech to text for voice messages without WeChat's recognition (bot/speech)
    asr_vosk_url: str = ""  # a vosk-server WebSocket, e.g. ws://127.0.0.1:2700
    asr_url: str = ""  # an OpenAI-compatible …/audio/transcriptions endpoint
    asr_api_key: str = ""
    asr_model: str = "whisper-1"

    require_fast_pdf: bool = Field(default=True)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'jiahu.db').resolve()}"

    def ensure_secret_key(self) -> str:
        """Return the secret key, generating one into ``DATA_DIR`` on first start."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if key_file.exists():
            self.secret_key = key_file.read_text().strip()
            return self.secret_key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.secret_key = secrets.token_urlsafe(48)
        key_file.write_text(self.secret_key)
        key_file.chmod(0o600)
        log.warning("secret_key.generated", path=str(key_file),
                    hint="set JIAHU_SECRET_KEY to share one key between server processes")
        return self.secret_key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (cached; tests clear the cache)."""
    return Settings()
