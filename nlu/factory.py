"""Choosing the recognizer from the settings."""
from __future__ import annotations

from backend.settings import Settings
from nlu.base import Recognizer
from nlu.embedded import EmbeddedRecognizer
from nlu.rasa import RasaRecognizer


def make_recognizer(settings: Settings) -> Recognizer:
    """Rasa (falling back to the embedded model) when ``JIAHU_RASA_URL`` is set, else the
    embedded model, stored under ``DATA_DIR/nlu``."""
    embedded = EmbeddedRecognizer(settings.data_dir / "nlu")
    if settings.rasa_url:
        return RasaRecognizer(settings.rasa_url, embedded, settings.rasa_timeout)
    return embedded
