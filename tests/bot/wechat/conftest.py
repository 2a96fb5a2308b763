"""Fixtures of the WeChat channel tests: the fake WeChat server, the app wired to it, a family."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from .fakes import AES_KEY, APPID, PUBLIC_URL, SECRET, TOKEN, FakeWeChat, Family  # noqa: TID252


@pytest.fixture
async def fake_wechat() -> AsyncIterator[FakeWeChat]:
    fake = FakeWeChat()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        await server.close()


@pytest.fixture
async def client(runtime: Any, fake_wechat: FakeWeChat) -> AsyncIterator[TestClient]:
    """The jiahu app (``create_app``) with the WeChat channel configured against the fake."""
    from bot.app import create_app

    settings = runtime.settings
    settings.wechat_token = TOKEN
    settings.wechat_appid = APPID
    settings.wechat_secret = SECRET
    settings.wechat_aes_key = AES_KEY
    settings.wechat_allow_plain = True  # most dialogues are easier to read in plain mode
    settings.wechat_api_url = fake_wechat.url
    settings.public_url = PUBLIC_URL
    test_client = TestClient(TestServer(create_app(runtime), host="127.0.0.1"))
    await test_client.start_server()
    try:
        yield test_client
    finally:
        await test_client.close()


@pytest.fixture
def family(client: TestClient, fake_wechat: FakeWeChat) -> Family:
    return Family(client, fake_wechat)
