"""Turning a turn's replies into as few WeChat messages as WeChat allows."""
from __future__ import annotations

from bot.wechat.outbox import (
    MAX_MESSAGES,
    TEXT_LIMIT_BYTES,
    Image,
    Text,
    passive_text,
    plan,
    split_text,
)
from flows.types import Choice, Outbound


async def _link(reply: Outbound) -> str:
    return "https://h.example/d/1/consent.pdf?exp=1&sig=x"


def test_choices_are_numbered_and_merged_into_one_passive_text() -> None:
    replies = [Outbound.say("您好！"),
               Outbound(kind="choices", text="请问您想办理什么？",
                        choices=[Choice("book", "预约上门护理"), Choice("status", "查询预约")])]
    assert passive_text(replies) == "您好！\n\n请问您想办理什么？\n1. 预约上门护理\n2. 查询预约\n（回复数字即可）"
    english = Outbound(kind="choices", text="What would you like?", choices=[Choice("a", "Book")])
    assert passive_text([english]) == "What would you like?\n1. Book\n(reply with the number)"


def test_too_long_or_file_replies_are_not_passive() -> None:
    assert passive_text([Outbound.say("长" * 700)]) is None  # 2100 bytes
    assert passive_text([Outbound(kind="image", data=b"png")]) is None
    assert passive_text([]) is None


def test_split_text_keeps_utf8_limit_and_lines() -> None:
    text = "\n".join(["第一行：" + "护" * 300, "第二行：" + "理" * 300, "x" * 5000])
    chunks = split_text(text)
    assert all(len(c.encode()) <= TEXT_LIMIT_BYTES for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")


async def test_document_pages_are_dropped_before_texts_when_over_budget() -> None:
    pages = [b"page"] * 8
    document = Outbound(kind="document", text="知情同意书", filename="consent.pdf", pages=pages)
    messages = await plan([Outbound.say("已确认"), document, Outbound.say("谢谢")], _link)
    assert len(messages) == MAX_MESSAGES
    assert isinstance(messages[0], Text) and isinstance(messages[-1], Text)
    assert sum(isinstance(m, Image) for m in messages) == 3
    assert "consent.pdf: https://h.example/d/1/" in messages[-1].content
    assert messages[-1].content.endswith("谢谢")


async def test_never_more_than_five_messages() -> None:
    replies = [Outbound.say("很长的说明。" * 200) for _ in range(6)]
    messages = await plan(replies, _link)
    assert len(messages) == MAX_MESSAGES
    assert all(isinstance(m, Text) and len(m.content.encode()) <= TEXT_LIMIT_BYTES for m in messages)
