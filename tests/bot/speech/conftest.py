"""Fake speech engines on 127.0.0.1 speaking the real protocols: vosk-server's WebSocket
protocol and the OpenAI-compatible ``/v1/audio/transcriptions`` endpoint."""
from __future__ import annotations

import io
import json
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer


@dataclass
class FakeEngine:
    """Answers ``words`` to whatever it hears; keeps the audio and settings it was sent."""

    words: str = "我 想 预约 上门 护理"  # as vosk's Chinese models write: words apart
    configs: list[dict[str, Any]] = field(default_factory=list)
    audio: list[bytes] = field(default_factory=list)
    forms: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    async def vosk(self, request: web.Request) -> web.WebSocketResponse:
        """vosk-server's asr_server.py: config, binary frames (each answered), eof → final."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        pcm = bytearray()
        async for message in ws:
            if message.type == WSMsgType.BINARY:
                pcm += message.data
                await ws.send_str(json.dumps({"partial": ""}))
            elif message.type == WSMsgType.TEXT:
                data = json.loads(message.data)
                if "config" in data:
                    self.configs.append(data["config"])
                elif data.get("eof"):
                    self.audio.append(bytes(pcm))
                    await ws.send_str(json.dumps({"result": [], "text": self.words}))
                    await ws.close()
        return ws

    async def transcriptions(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        assert isinstance(upload, web.FileField)
        with wave.open(io.BytesIO(upload.file.read())) as wav:
            self.configs.append({"sample_rate": wav.getframerate(), "channels": wav.getnchannels(),
                                 "model": form.get("model"), "auth": request.headers.get("Authorization")})
            self.audio.append(wav.readframes(wav.getnframes()))
        return web.json_response({"text": self.words.replace(" ", "")})


@pytest.fixture
async def engine() -> AsyncIterator[FakeEngine]:
    fake = FakeEngine()
    app = web.Application()
    app.router.add_get("/", fake.vosk)
    app.router.add_post("/v1/audio/transcriptions", fake.transcriptions)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        await server.close()
