"""The Rasa path against a fake Rasa server on 127.0.0.1, and the fallback when it fails."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from backend.settings import Settings
from nlu import make_recognizer
from nlu.base import Parse
from nlu.embedded import EmbeddedRecognizer
from nlu.rasa import RasaRecognizer


@dataclass
class FakeRasa:
    """A Rasa server that records each request and answers ``/model/parse`` from ``reply``."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0
    status: int = 200
    reply: dict[str, Any] = field(default_factory=lambda: {
        "intent": {"name": "book_service", "confidence": 0.93},
        "entities": [
            {"entity": "service", "value": "wound_care", "start": 5, "end": 7,
             "extractor": "DIETClassifier"},
            {"entity": "date", "value": "明天", "start": 10, "end": 12},
        ],
        "intent_ranking": [{"name": "book_service", "confidence": 0.93},
                           {"name": "ask_price", "confidence": 0.04},
                           {"name": "nlu_fallback", "confidence": 0.03}],
    })

    async def parse(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        await asyncio.sleep(self.delay)
        return web.json_response({"text": body["text"], **self.reply}, status=self.status)


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    fake = FakeRasa()
    app = web.Application()
    app.router.add_post("/model/parse", fake.parse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    await runner.cleanup()


class StubFallback:
    """Records the texts it was asked to parse."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def parse(self, text: str) -> Parse:
        self.texts.append(text)
        return Parse(text, "greet", 0.8, [], [("greet", 0.8)])


async def test_rasa_answer_is_mapped(rasa: FakeRasa) -> None:
    fallback = StubFallback()
    text = "我妈刚出院换药，明天下午来"
    parse = await RasaRecognizer(rasa.url, fallback, timeout=2).parse(text)
    assert rasa.requests == [{"text": text}]
    assert (parse.intent, parse.confidence) == ("book_service", 0.93)
    assert parse.top(2) == [("book_service", 0.93), ("ask_price", 0.04)]
    assert parse.values("service") == ["wound_care"]
    assert parse.first("relation") == "mother"
    assert parse.first("date") is not None and parse.first("date")[4] == "-"  # ISO, not 明天
    assert parse.first("time") == "afternoon"
    assert fallback.texts == []


async def test_rasa_only_entities_are_kept(rasa: FakeRasa) -> None:
    rasa.reply["entities"] = [{"entity": "symptom", "value": "fever", "start": 0, "end": 2}]
    parse = await RasaRecognizer(rasa.url, StubFallback(), timeout=2).parse("发烧")
    assert parse.first("symptom") == "fever"


async def test_unknown_rasa_intent_is_no_intent(rasa: FakeRasa) -> None:
    rasa.reply["intent"] = {"name": "nlu_fallback", "confidence": 0.3}
    parse = await RasaRecognizer(rasa.url, StubFallback(), timeout=2).parse("嗯嗯啊啊")
    assert parse.intent is None and not parse.confident


async def test_slow_rasa_falls_back(rasa: FakeRasa, capsys: pytest.CaptureFixture[str]) -> None:
    rasa.delay = 0.5
    fallback = StubFallback()
    parse = await RasaRecognizer(rasa.url, fallback, timeout=0.05).parse("你好")
    assert parse.intent == "greet" and fallback.texts == ["你好"]
    assert "nlu.rasa_fallback" in capsys.readouterr().out


async def test_rasa_error_falls_back(rasa: FakeRasa) -> None:
    rasa.status = 500
    fallback = StubFallback()
    await RasaRecognizer(rasa.url, fallback, timeout=2).parse("你好")
    assert fallback.texts == ["你好"]


async def test_rasa_down_falls_back_to_embedded(recognizer: EmbeddedRecognizer) -> None:
    parse = await RasaRecognizer("http://127.0.0.1:9", recognizer, timeout=0.5).parse("转人工")
    assert parse.intent == "human_handoff"


def test_factory_chooses_by_settings(tmp_path: Any) -> None:
    embedded = make_recognizer(Settings(data_dir=tmp_path))
    assert isinstance(embedded, EmbeddedRecognizer)
    assert embedded.model_dir == tmp_path / "nlu"
    rasa = make_recognizer(Settings(data_dir=tmp_path, rasa_url="http://rasa:5005/",
                                    rasa_timeout=0.2))
    assert isinstance(rasa, RasaRecognizer)
    assert rasa.url == "http://rasa:5005/model/parse" and rasa.timeout == 0.2
    assert isinstance(rasa.fallback, EmbeddedRecognizer)
