"""vosk-server (github.com/alphacep/vosk-server), an offline engine the hospital runs with the
model directory it installs (e.g. vosk-model-small-cn), spoken to over its WebSocket protocol:
a ``{"config": {"sample_rate": …}}`` text frame, the PCM in binary frames (each answered with a
partial result), then ``{"eof": 1}``, answered with the final ``{"text": …}``."""
from __future__ import annotations

import json

import aiohttp

from bot.speech.base import SAMPLE_RATE, SpeechError, SpeechToText

CHUNK = SAMPLE_RATE * 2 // 2  # half a second of 16-bit PCM per frame
TIMEOUT = aiohttp.ClientTimeout(total=60)


class VoskServer(SpeechToText):
    name = "vosk-server"

    def __init__(self, url: str) -> None:
        self.url = url

    async def recognize(self, pcm: bytes) -> str:
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as http, http.ws_connect(self.url) as ws:
                await ws.send_str(json.dumps({"config": {"sample_rate": SAMPLE_RATE}}))
                for start in range(0, len(pcm), CHUNK):
                    await ws.send_bytes(pcm[start:start + CHUNK])
                    await ws.receive_json()  # a partial result; vosk-server answers every frame
                await ws.send_str(json.dumps({"eof": 1}))
                final = await ws.receive_json()
        except (aiohttp.ClientError, TypeError, ValueError) as error:
            raise SpeechError(f"vosk-server: {error}") from None
        return str(final.get("text", "")) if isinstance(final, dict) else ""
