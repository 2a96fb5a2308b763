"""Understanding free text: intents and entities, embedded or from a Rasa server."""
from __future__ import annotations

from typing import TYPE_CHECKING

from nlu.base import CONFIDENT, INTENTS, Entity, Parse, Recognizer

if TYPE_CHECKING:
    from backend.settings import Settings

__all__ = ["CONFIDENT", "INTENTS", "Entity", "Parse", "Recognizer", "make_recognizer"]


def make_recognizer(settings: Settings) -> Recognizer:
    """The recognizer the settings ask for (see ``nlu.factory``); scikit-learn and aiohttp
    are imported only here, so ``nlu.entities`` stays light for the flows."""
    from nlu.factory import make_recognizer as make  # noqa: PLC0415

    return make(settings)
