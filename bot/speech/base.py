"""The speech-to-text seam: an engine reads 16 kHz mono PCM; the ``Transcriber`` converts a
voice message's file first (ffmpeg) and tidies the words the engine heard."""
from __future__ import annotations

import asyncio
import re
import shutil
from abc import ABC, abstractmethod

import structlog

log = structlog.get_logger(__name__)

SAMPLE_RATE = 16000
CONVERT_SECONDS = 30  # ffmpeg is bounded by coreutils' timeout (libfaketime-safe, like qpdf)
MAX_SECONDS = 120  # a WeChat voice message lasts at most 60 s; anything longer is cut
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


class SpeechError(Exception):
    """The audio could not be converted or read; the family is asked to say it again or type."""


class SpeechToText(ABC):
    """An engine that turns 16 kHz, 16-bit, mono PCM into words."""

    name: str

    @abstractmethod
    async def recognize(self, pcm: bytes) -> str:
        """The words heard (may be empty)."""


async def to_pcm(audio: bytes) -> bytes:
    """Any audio ffmpeg reads (WeChat's AMR and speex, Telegram's Ogg/Opus, WAV …) as 16 kHz
    16-bit mono PCM."""
    if shutil.which("ffmpeg") is None:
        raise SpeechError("ffmpeg is not installed")
    process = await asyncio.create_subprocess_exec(
        "timeout", str(CONVERT_SECONDS), "ffmpeg", "-nostdin", "-loglevel", "error", "-i", "pipe:0",
        "-t", str(MAX_SECONDS), "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "pipe:1",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    pcm, errors = await process.communicate(audio)
    if process.returncode != 0 or not pcm:
        raise SpeechError(f"ffmpeg could not convert the audio: {errors.decode(errors='replace')[:200]}")
    return pcm


def tidy(words: str) -> str:
    """Engines for Chinese put spaces between words ("我 想 预约"): joined again."""
    return _CJK_GAP.sub("", " ".join(words.split()))


class Transcriber:
    """Converts a voice message and has the engine read it."""

    def __init__(self, engine: SpeechToText) -> None:
        self.engine = engine

    async def transcribe(self, audio: bytes) -> str | None:
        """The words in ``audio``, or None when nothing could be heard (logged, not raised)."""
        try:
            words = tidy(await self.engine.recognize(await to_pcm(audio)))
        except (SpeechError, OSError, asyncio.TimeoutError) as error:
            log.warning("speech.failed", engine=self.engine.name, error=str(error))
            return None
        return words or None
