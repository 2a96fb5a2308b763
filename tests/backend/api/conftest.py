"""Fixtures of the API tests: a client of an app with only the API, an all-powerful token."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from backend.staff import SCOPES

from .helpers import api_app, make_token  # noqa: TID252


@pytest.fixture
async def client(runtime) -> AsyncIterator[TestClient]:  # type: ignore[no-untyped-def]
    async with TestClient(TestServer(api_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


@pytest.fixture
async def admin(runtime) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return await make_token(runtime, "admin-system", *SCOPES)
