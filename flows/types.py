"""The one shape every channel speaks: an ``Inbound`` event in, ``Outbound`` replies out."""
from __future__ import annotations

import base64
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from backend.models import ChannelUser

OutboundKind = Literal["text", "choices", "document", "image"]
UserHook = Callable[["AsyncSession", "ChannelUser"], Awaitable[None]]


@dataclass(frozen=True)
class Media:
    """A file the family sent: the bytes, and what the channel claims about them."""

    data: bytes
    content_type: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    label: str | None = None


@dataclass
class Inbound:
    """One thing a family did in a channel: a message, a button, a file, a location, an event.

    ``kind`` is what the channel received (text, choice, image, file, voice, location, event,
    unsupported); ``event`` names events such as ``start``, ``subscribe``, ``unsubscribe`` or a
    menu entry ``menu:book``. ``choice_context`` is the step a pressed button belonged to.
    """

    channel: str
    user_id: str
    kind: str = "text"
    text: str | None = None
    choice: str | None = None
    choice_context: str | None = None
    media: list[Media] = field(default_factory=list)
    location: Location | None = None
    event: str | None = None
    message_id: str | None = None
    language: str | None = None
    display_name: str | None = None
    is_tryout: bool = False
    # WeChat resends a message only when it did not get the answer (the process that made it
    # died): such a retry gets the answer the committed turn stored. Elsewhere a repeat is
    # dropped (Telegram may deliver one update twice while the first is still being answered).
    retry_expects_answer: bool = False
    # Channels that send through an API (Telegram, WeChat's customer-service messages) have the
    # turn's replies queued in the durable outbox in the turn's own transaction, so a crash or
    # an error of the channel's API delays them but never loses them (bot/delivery.py).
    outbox: bool = False
    outbox_hold_seconds: float = 0.0  # WeChat: the passive reply may still answer it meanwhile
    notices: list[Outbound] = field(default_factory=list)  # said before the turn's replies
    # The channel's own bookkeeping of the family writing (WeChat: the 48-hour service window
    # opens), run by the engine in the turn's transaction as soon as it has the user.
    on_user: list[UserHook] = field(default_factory=list)


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


@dataclass
class Outbound:
    """One reply. Channels render ``choices`` their own way (numbers, keyboards, buttons).

    A ``document`` carries the file (``data``), or names a stored one (``artefact_id``, a
    backend ``Artefact``) whose bytes the delivery reads when it sends it, so that the outbox
    keeps a reference rather than the file; a signed download ``url``; and PNG ``pages`` for
    channels that cannot send files (WeChat shows the pages and the link).
    """

    kind: OutboundKind
    text: str = ""
    choices: list[Choice] = field(default_factory=list)
    context: str | None = None
    multiple: bool = False
    request_contact: bool = False
    data: bytes | None = None
    filename: str | None = None
    content_type: str | None = None
    url: str | None = None
    pages: list[bytes] = field(default_factory=list)
    artefact_id: int | None = None

    @classmethod
    def say(cls, text: str) -> Outbound:
        return cls(kind="text", text=text)

    def dump(self) -> dict[str, Any]:
        """The reply as JSON, files included (a stored file by its id), for the outbox (stored
        encrypted)."""
        def b64(data: bytes) -> str:
            return base64.b64encode(data).decode()

        return {"kind": self.kind, "text": self.text, "choices": [[c.id, c.label] for c in self.choices],
                "context": self.context, "multiple": self.multiple, "request_contact": self.request_contact,
                "data": b64(self.data) if self.data is not None else None, "filename": self.filename,
                "content_type": self.content_type, "url": self.url, "pages": [b64(p) for p in self.pages],
                "artefact_id": self.artefact_id}

    @classmethod
    def load(cls, data: dict[str, Any]) -> Outbound:
        """The reply ``dump`` made."""
        return cls(kind=data["kind"], text=data.get("text", ""),
                   choices=[Choice(id_, label) for id_, label in data.get("choices", [])],
                   context=data.get("context"), multiple=bool(data.get("multiple")),
                   request_contact=bool(data.get("request_contact")),
                   data=base64.b64decode(data["data"]) if data.get("data") is not None else None,
                   filename=data.get("filename"), content_type=data.get("content_type"),
                   url=data.get("url"), pages=[base64.b64decode(p) for p in data.get("pages", [])],
                   artefact_id=data.get("artefact_id"))


def context_token(context: str) -> str:
    """A short stable token for a step's context, small enough for button callback data."""
    return f"{zlib.crc32(context.encode()):08x}"
