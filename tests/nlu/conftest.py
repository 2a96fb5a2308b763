"""NLU fixtures (DATA_DIR and settings are reset per test by tests/conftest.py)."""
from __future__ import annotations

import pytest

from nlu.embedded import EmbeddedRecognizer


@pytest.fixture(scope="session")
def recognizer(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedRecognizer:
    """The embedded recognizer trained once from nlu/data for the whole session."""
    embedded = EmbeddedRecognizer(tmp_path_factory.mktemp("model"))
    embedded.load()
    return embedded
