"""Speech to text for voice messages (issue #16): the audio converted to 16 kHz PCM with ffmpeg,
then read by the engine the hospital configured (``make_speech``)."""
from __future__ import annotations

from backend.settings import Settings
from bot.speech.base import SpeechToText, Transcriber
from bot.speech.openai_http import TranscriptionEndpoint
from bot.speech.vosk_server import VoskServer


def make_speech(settings: Settings) -> Transcriber | None:
    """The configured engine: a vosk-server (offline, with the model directory the hospital
    installs) when ``JIAHU_ASR_VOSK_URL`` is set, else a cloud endpoint speaking the
    OpenAI-compatible ``/audio/transcriptions`` protocol (``JIAHU_ASR_URL``), else none."""
    engine: SpeechToText | None = None
    if settings.asr_vosk_url:
        engine = VoskServer(settings.asr_vosk_url)
    elif settings.asr_url:
        engine = TranscriptionEndpoint(settings.asr_url, settings.asr_api_key, settings.asr_model)
    return Transcriber(engine) if engine is not None else None


__all__ = ["SpeechToText", "Transcriber", "make_speech"]
