"""One DATA_DIR for all consent-document tests, so the development seal made once is trusted."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET, _reset_caches


def use_data_dir(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("JIAHU_") and name != "JIAHU_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("JIAHU_DATA_DIR", str(path))
    monkeypatch.setenv("JIAHU_SECRET_KEY", TEST_SECRET)
    _reset_caches()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jiahu-documents")


@pytest.fixture(autouse=True)
def jiahu_env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Overrides the suite's per-test DATA_DIR with the documents' shared one."""
    use_data_dir(monkeypatch, data_dir)
    yield data_dir
    _reset_caches()
