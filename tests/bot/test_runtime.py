"""What a serving process does at start before the first family writes."""
from __future__ import annotations

import gc
from typing import Any

from bot.runtime import WARM_UP_TEXT, YOUNG_COLLECTION_THRESHOLD, _warm_up, settle_heap
from nlu.base import Parse


class _Embedded:
    """Stands for the embedded model: records what the warm-up asked of it."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def load(self) -> None:
        self.calls.append("load")

    def parse_sync(self, text: str) -> Parse:
        self.calls.append(text)
        return Parse(text=text, intent=None, confidence=0.0)

    async def parse(self, text: str) -> Parse:
        return self.parse_sync(text)


class _Server:
    """Stands for Rasa's server with the embedded model as its fallback (never asked at start)."""

    def __init__(self, fallback: _Embedded) -> None:
        self.fallback = fallback

    async def parse(self, text: str) -> Parse:
        raise AssertionError("the server is not asked at start")


def test_warm_up_loads_the_model_and_reads_a_sentence() -> None:
    embedded = _Embedded()
    _warm_up(embedded)
    assert embedded.calls == ["load", WARM_UP_TEXT]


def test_warm_up_with_a_rasa_server_warms_its_fallback_only() -> None:
    embedded = _Embedded()
    _warm_up(_Server(embedded))
    assert embedded.calls == ["load", WARM_UP_TEXT]


def test_warm_up_reads_with_the_real_model(trained_recognizer: Any) -> None:
    import jieba

    _warm_up(trained_recognizer)
    assert jieba.dt.initialized  # the dictionary is loaded before the first family's message


def test_settle_heap_keeps_start_up_objects_out_of_collections() -> None:
    loaded_at_start = [object() for _ in range(1000)]
    threshold = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() >= len(loaded_at_start)
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
