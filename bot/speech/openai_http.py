"""A cloud (or on-premises) endpoint speaking the OpenAI-compatible transcription protocol
(``POST …/audio/transcriptions``, multipart ``file`` + ``model``, answered ``{"text": …}``),
which hosted ASR services and local whisper servers offer alike."""
from __future__ import annotations

import io
import wave

import aiohttp

from bot.speech.base import SAMPLE_RATE, SpeechError, SpeechToText

TIMEOUT = aiohttp.ClientTimeout(total=60)


def wav(pcm: bytes) -> bytes:
    """16 kHz mono PCM as a WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)
    return buffer.getvalue()


class TranscriptionEndpoint(SpeechToText):
    name = "transcriptions"

    def __init__(self, url: str, api_key: str = "", model: str = "whisper-1") -> None:
        self.url = url
        self.api_key = api_key
        self.model = model

    async def recognize(self, pcm: bytes) -> str:
        form = aiohttp.FormData()
        form.add_field("file", wav(pcm), filename="voice.wav", content_type="audio/wav")
        form.add_field("model", self.model)
        form.add_field("language", "zh")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as http, \
                    http.post(self.url, data=form, headers=headers) as response:
                if response.status >= 300:
                    raise SpeechError(f"{self.url} answered HTTP {response.status}")
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, ValueError) as error:
            raise SpeechError(f"transcriptions: {error}") from None
        return str(body.get("text", "")) if isinstance(body, dict) else ""
