"""Message catalogues: every user-facing sentence, in simplified Chinese and English."""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml

from backend.config import data_file

LANGUAGES = ("zh", "en")
_PACKAGED = Path(__file__).with_name("messages")


@lru_cache(maxsize=4)
def catalogue(lang: str) -> dict[str, str]:
    """The messages of one language; a hospital's ``messages.<lang>.yaml`` overrides keys."""
    messages: dict[str, str] = yaml.safe_load((_PACKAGED / f"{lang}.yaml").read_text("utf-8"))
    override = data_file(f"messages.{lang}.yaml")
    if override.exists():
        messages.update(yaml.safe_load(override.read_text("utf-8")) or {})
    return messages


def t(lang: str, key: str, **values: object) -> str:
    """The message ``key`` in ``lang`` with its placeholders filled."""
    lang = lang if lang in LANGUAGES else "zh"
    text = catalogue(lang)[key]
    return text.format(**values) if values else text


def join(lang: str, items: Iterable[str]) -> str:
    """Items of a list as the language writes them: 换药、采血 / dressing change, blood sampling."""
    return t(lang, "list.items").join(items)
