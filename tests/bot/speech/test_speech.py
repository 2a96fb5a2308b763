"""Speech to text (bot/speech): real speech made with espeak-ng, encoded as AMR the way WeChat
stores voice messages, converted by ffmpeg and read by each engine over its real protocol."""
from __future__ import annotations

import array
import math
from pathlib import Path

from bot.speech import make_speech
from bot.speech.base import SAMPLE_RATE, Transcriber, to_pcm
from bot.speech.openai_http import TranscriptionEndpoint
from bot.speech.vosk_server import VoskServer

from .audio import amr, spoken  # noqa: TID252
from .conftest import FakeEngine  # noqa: TID252

SENTENCE = "我想预约上门护理"


def _seconds(pcm: bytes, rate: int) -> float:
    return len(pcm) / 2 / rate


def _loudness(pcm: bytes) -> float:
    samples = array.array("h", pcm)
    return math.sqrt(sum(s * s for s in samples) / max(len(samples), 1))


async def test_amr_becomes_16_khz_pcm_of_the_same_length(tmp_path: Path) -> None:
    narrow = spoken(SENTENCE, tmp_path)
    voice = amr(narrow)
    assert voice.startswith(b"#!AMR\n") and len(voice) < len(narrow) / 5  # really compressed
    pcm = await to_pcm(voice)
    assert abs(_seconds(pcm, SAMPLE_RATE) - _seconds(narrow, 8000)) < 0.05
    assert _loudness(pcm) > 300  # speech, not silence


async def test_vosk_server_hears_the_voice_message(tmp_path: Path, engine: FakeEngine) -> None:
    narrow = spoken(SENTENCE, tmp_path)
    words = await Transcriber(VoskServer(engine.url)).transcribe(amr(narrow))
    assert words == SENTENCE  # vosk's "我 想 预约" joined again
    assert engine.configs == [{"sample_rate": 16000}]
    [heard] = engine.audio
    assert abs(_seconds(heard, SAMPLE_RATE) - _seconds(narrow, 8000)) < 0.05 and _loudness(heard) > 300


async def test_a_transcription_endpoint_gets_a_16_khz_wav(tmp_path: Path, engine: FakeEngine) -> None:
    speech = Transcriber(TranscriptionEndpoint(f"{engine.url}/v1/audio/transcriptions", "sk-test", "whisper-1"))
    assert await speech.transcribe(amr(spoken(SENTENCE, tmp_path))) == SENTENCE
    assert engine.configs == [{"sample_rate": 16000, "channels": 1, "model": "whisper-1",
                               "auth": "Bearer sk-test"}]


async def test_what_cannot_be_converted_or_reached_is_nothing_heard(tmp_path: Path, engine: FakeEngine) -> None:
    assert await Transcriber(VoskServer(engine.url)).transcribe(b"not audio at all") is None
    unreachable = Transcriber(VoskServer("ws://127.0.0.1:9/"))
    assert await unreachable.transcribe(amr(spoken("你好", tmp_path))) is None


def test_the_engine_follows_the_settings(runtime) -> None:  # type: ignore[no-untyped-def]
    assert make_speech(runtime.settings) is None
    runtime.settings.asr_url = "https://asr.example/v1/audio/transcriptions"
    assert isinstance(make_speech(runtime.settings).engine, TranscriptionEndpoint)  # type: ignore[union-attr]
    runtime.settings.asr_vosk_url = "ws://127.0.0.1:2700"
    assert isinstance(make_speech(runtime.settings).engine, VoskServer)  # type: ignore[union-attr]
