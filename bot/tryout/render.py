"""``Outbound`` replies as the JSON the try-out page draws: bubbles, buttons, pages, links."""
from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from flows.types import Outbound, context_token

DocumentLink = Callable[[Outbound], Awaitable[str | None]]
"""Gives a document without a ``url`` a download link (or None to show only its name)."""

_INLINE_IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def data_uri(data: bytes, content_type: str = "image/png") -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


async def render_replies(replies: list[Outbound], link: DocumentLink,
                         origin: str = "") -> list[dict[str, Any]]:
    """One JSON object per reply, in order; images travel inline as ``data:`` URIs. A link the
    flow made relative (no ``JIAHU_PUBLIC_URL``) is made absolute with the page's ``origin``,
    in the text too, so what the family reads is a link that works anywhere."""
    return [await _render(_absolute(reply, origin), link) for reply in replies]


def _absolute(reply: Outbound, origin: str) -> Outbound:
    if not (origin and reply.url and reply.url.startswith("/")):
        return reply
    url = origin.rstrip("/") + reply.url
    return replace(reply, url=url, text=reply.text.replace(reply.url, url))


async def _render(reply: Outbound, link: DocumentLink) -> dict[str, Any]:
    if reply.kind == "choices" and reply.choices:
        return {"kind": "choices", "text": reply.text, "multiple": reply.multiple,
                "context": context_token(reply.context) if reply.context else None,
                "choices": [{"id": c.id, "label": c.label, "number": n}
                            for n, c in enumerate(reply.choices, 1)]}
    if reply.kind == "document":
        # a url from the flow is a page to read (the file is a download inside it); else the
        # file itself gets a download link
        return {"kind": "document", "text": reply.text,
                "filename": reply.filename or "document.pdf", "readable": bool(reply.url),
                "url": reply.url or (await link(reply) if reply.data else None),
                "pages": [data_uri(page) for page in reply.pages]}
    if reply.kind == "image" and reply.data and (reply.content_type or "image/png") in _INLINE_IMAGES:
        return {"kind": "image", "text": reply.text, "filename": reply.filename,
                "src": data_uri(reply.data, reply.content_type or "image/png")}
    return {"kind": "text", "text": reply.text}
