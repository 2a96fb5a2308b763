"""A keyword baseline recognizer: exact words for intents, no training needed."""
from __future__ import annotations

import re

from nlu.base import Parse
from nlu.entities import extract_all

KEYWORDS: dict[str, list[str]] = {
    "human_handoff": ["转人工", "人工", "客服", "真人", "human", "agent", "operator"],
    "restart": ["重新开始", "重来", "从头", "restart", "start over"],
    "go_back": ["返回", "上一步", "back"],
    "help": ["帮助", "怎么用", "help"],
    "cancel_booking": ["取消预约", "不约了", "cancel booking", "cancel my booking"],
    "reschedule_booking": ["改时间", "改约", "换个时间", "reschedule"],
    "check_booking": ["查询", "查预约", "我的预约", "进度", "status", "my booking"],
    "complaint": ["投诉", "建议", "不满意", "差评", "complain", "complaint"],
    "ask_price": ["多少钱", "价格", "收费", "费用", "price", "cost", "how much"],
    "ask_services": ["服务项目", "能做什么", "有哪些服务", "services"],
    "ask_eligibility": ["符合条件", "能不能申请", "谁可以", "eligible"],
    "book_service": ["预约", "上门", "护士", "申请", "换药", "book", "appointment", "nurse", "visit"],
    "affirm": ["是", "是的", "对", "好", "好的", "可以", "行", "嗯", "确认", "同意", "yes", "ok", "sure", "y"],
    "deny": ["不是", "不", "不要", "不用", "否", "不对", "no", "nope", "n"],
    "greet": ["你好", "您好", "在吗", "hello", "hi"],
    "goodbye": ["再见", "拜拜", "谢谢", "bye", "thanks"],
}

_PUNCT = re.compile(r"[\s，。！？、,.!?~～]+")


class KeywordRecognizer:
    """Intent by the first keyword list that matches (whole text first, then contained words)."""

    async def parse(self, text: str) -> Parse:
        cleaned = _PUNCT.sub(" ", text).strip().lower()
        entities = extract_all(text)
        for intent, words in KEYWORDS.items():
            if cleaned in words:
                return Parse(text, intent, 1.0, entities, [(intent, 1.0)])
        for intent, words in KEYWORDS.items():
            if intent in ("affirm", "deny"):
                continue
            for word in words:
                if (word.isascii() and re.search(rf"\b{re.escape(word)}\b", cleaned)) or (
                        not word.isascii() and word in cleaned):
                    return Parse(text, intent, 0.7, entities, [(intent, 0.7)])
        if any(e.entity == "service" for e in entities):
            return Parse(text, "book_service", 0.6, entities, [("book_service", 0.6)])
        return Parse(text, None, 0.0, entities, [])
