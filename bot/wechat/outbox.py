"""A turn's replies as WeChat messages: one passive text when possible, else few
customer-service messages (WeChat allows only a handful per user message)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.base import numbered
from flows.types import Outbound

TEXT_LIMIT_BYTES = 2048
MAX_MESSAGES = 5
SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Text:
    content: str


@dataclass(frozen=True)
class Image:
    data: bytes
    filename: str = "page.png"
    content_type: str = "image/png"


Message = Text | Image
DocumentLink = Callable[[Outbound], Awaitable[str]]


def _text_of(reply: Outbound) -> str:
    """Choices as numbered lines, with the hint in the language the question is asked in."""
    if not reply.choices:
        return reply.text
    lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in reply.text) or not reply.text else "en"
    return numbered(reply, lang)


def passive_text(replies: list[Outbound]) -> str | None:
    """The turn as one passive text reply, or None when it needs the customer-service API."""
    if any(reply.kind in ("document", "image") for reply in replies):
        return None
    text = SEPARATOR.join(t for t in (_text_of(r) for r in replies) if t)
    if not text or len(text.encode()) > TEXT_LIMIT_BYTES:
        return None
    return text


async def plan(replies: list[Outbound], link: DocumentLink, limit: int = MAX_MESSAGES) -> list[Message]:
    """Customer-service messages for a turn, in order, at most ``limit`` (what the family's
    window still allows, ``MAX_MESSAGES`` at most).

    Texts are merged; a document becomes its page images plus a text with its download link,
    since WeChat cannot send a PDF (DOMAIN.md: families receive the consent they signed).
    """
    parts: list[str | Image] = []
    for reply in replies:
        if reply.kind == "document":
            parts += [Image(page, f"page-{i}.png") for i, page in enumerate(reply.pages, 1)]
            url = await link(reply)
            # the message names its link already (the consent's readable page): say it once
            parts.append(reply.text if reply.url and reply.url in reply.text
                         else "\n".join(filter(None, (reply.text, f"{reply.filename or 'PDF'}: {url}"))))
        elif reply.kind == "image" and reply.data:
            parts.append(Image(reply.data, reply.filename or "image.png",
                               reply.content_type or "image/png"))
            if reply.text:
                parts.append(reply.text)
        elif text := _text_of(reply):
            parts.append(text)
    messages: list[Message] = []
    pending: list[str] = []
    for part in [*parts, None]:
        if isinstance(part, str):
            pending.append(part)
            continue
        if pending:
            messages += [Text(chunk) for chunk in split_text(SEPARATOR.join(pending))]
            pending = []
        if part is not None:
            messages.append(part)
    return _within_budget(messages, max(1, min(limit, MAX_MESSAGES)))


def split_text(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Chunks of at most ``limit`` UTF-8 bytes, cut at line ends where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > limit:  # a single very long line: cut by characters
            head = _prefix_within(line, limit)
            if current:
                chunks.append(current)
                current = ""
            chunks.append(head)
            line = line[len(head):]
        if len((current + line).encode()) > limit:
            chunks.append(current)
            current = ""
        current += line
    if current:
        chunks.append(current)
    return [c.strip("\n") for c in chunks if c.strip()]


def _prefix_within(text: str, limit: int) -> str:
    encoded = text.encode()[:limit]
    return encoded.decode("utf-8", errors="ignore")


def _within_budget(messages: list[Message], limit: int = MAX_MESSAGES) -> list[Message]:
    """Drop trailing page images first (the link covers the whole file), then join texts."""
    texts = sum(isinstance(m, Text) for m in messages)
    images_allowed = max(0, limit - texts)
    kept: list[Message] = []
    for message in messages:
        if isinstance(message, Image):
            if images_allowed == 0:
                continue
            images_allowed -= 1
        kept.append(message)
    if len(kept) <= limit:
        return kept
    head, tail = kept[:limit - 1], kept[limit - 1:]
    rest = SEPARATOR.join(m.content for m in tail if isinstance(m, Text))
    return [*head, Text(_prefix_within(rest, TEXT_LIMIT_BYTES - 3) + "…")]
