"""Column types shared by the models: encrypted text and JSON, timezone-aware timestamps."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator

from backend.crypto import current_vault


class EncryptedText(TypeDecorator[str]):
    """Text stored encrypted with the service key; reads decrypt transparently."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else current_vault().encrypt_text(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else current_vault().decrypt_text(value)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document stored encrypted (conversation state holds ID numbers and phones)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return current_vault().encrypt_text(json.dumps(value, ensure_ascii=False, default=str))

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(current_vault().decrypt_text(value))


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored timezone-aware on PostgreSQL and as UTC on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None:  # SQLite keeps the wall time only: an instant in Beijing time becomes UTC
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value
