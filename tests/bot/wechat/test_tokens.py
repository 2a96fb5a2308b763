"""The access token from ``stable_token``: shared through the database, fetched again before
expiry or once on 40001, and forced only when WeChat rejects the token it still hands out."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from backend import clock
from backend.db import transaction
from backend.models import CacheEntry
from bot.wechat.api import WeChatAPI, WeChatError
from bot.wechat.tokens import TOKEN_KEY

from .fakes import APPID, SECRET  # noqa: TID252


@pytest.fixture
def api(runtime: Any, fake_wechat: Any) -> WeChatAPI:
    runtime.settings.wechat_appid = APPID
    runtime.settings.wechat_secret = SECRET
    runtime.settings.wechat_api_url = fake_wechat.url
    return WeChatAPI(runtime.settings, runtime.sessions)


async def _store(runtime: Any, token: str, expires_in: timedelta) -> None:
    async with transaction(runtime.sessions) as session:
        session.add(CacheEntry(key=TOKEN_KEY, value=token, expires_at=clock.now() + expires_in))


async def _stored(runtime: Any) -> CacheEntry:
    async with runtime.sessions() as session:
        entry = await session.get(CacheEntry, TOKEN_KEY)
    assert entry is not None
    return entry


@pytest.mark.parametrize("left", [timedelta(minutes=-1), timedelta(minutes=4)], ids=["expired", "expiring"])
async def test_expired_or_expiring_token_is_refreshed(runtime: Any, fake_wechat: Any, api: WeChatAPI,
                                                      left: timedelta) -> None:
    await _store(runtime, "OLD_TOKEN", left)
    fake_wechat.issued.append("OLD_TOKEN")
    try:
        await api.send_text("oWx_family", "您好")
    finally:
        await api.close()
    assert fake_wechat.issued[-1] == "ACCESS_TOKEN_2"
    entry = await _stored(runtime)
    assert entry.value == "ACCESS_TOKEN_2"
    assert timedelta(hours=1, minutes=59) < entry.expires_at - clock.now() <= timedelta(hours=2)
    assert len(fake_wechat.sent) == 1


async def test_valid_token_in_the_database_is_used_by_every_process(runtime: Any, fake_wechat: Any,
                                                                    api: WeChatAPI) -> None:
    other_process = WeChatAPI(runtime.settings, runtime.sessions)
    try:
        await api.send_text("oWx_family", "一")
        await other_process.send_text("oWx_family", "二")
    finally:
        await api.close()
        await other_process.close()
    assert fake_wechat.issued == ["ACCESS_TOKEN_1"]
    assert fake_wechat.calls.count("/cgi-bin/stable_token") == 1


async def test_concurrent_processes_refresh_once(runtime: Any, fake_wechat: Any, api: WeChatAPI) -> None:
    others = [WeChatAPI(runtime.settings, runtime.sessions) for _ in range(3)]
    try:
        tokens = await asyncio.gather(*(a.tokens.get() for a in [api, *others]))
    finally:
        for a in [api, *others]:
            await a.close()
    assert set(tokens) == {"ACCESS_TOKEN_1"}
    assert fake_wechat.calls.count("/cgi-bin/stable_token") == 1


async def test_invalid_token_error_refreshes_once(runtime: Any, fake_wechat: Any, api: WeChatAPI) -> None:
    await _store(runtime, "REVOKED_TOKEN", timedelta(hours=1))
    fake_wechat.issued.append("REVOKED_TOKEN")
    fake_wechat.revoked.add("REVOKED_TOKEN")  # e.g. someone fetched a token with the same appid
    try:
        await api.send_text("oWx_family", "您好")
        assert fake_wechat.calls.count("/cgi-bin/stable_token") == 1
        assert (await _stored(runtime)).value == "ACCESS_TOKEN_2"

        fake_wechat.revoked.update(["ACCESS_TOKEN_2", "ACCESS_TOKEN_3"])
        with pytest.raises(WeChatError) as error:  # refused again after one refresh: give up
            await api.send_text("oWx_family", "您好")
        assert error.value.errcode == 40001
        assert fake_wechat.calls.count("/cgi-bin/stable_token") == 2
    finally:
        await api.close()
    assert [m["text"]["content"] for m in fake_wechat.sent] == ["您好"]


async def test_a_token_another_system_fetched_is_shared_not_retired(runtime: Any, fake_wechat: Any,
                                                                   api: WeChatAPI) -> None:
    """The hospital's other system asks stable_token too: both get the same token, none is retired."""
    other_system = WeChatAPI(runtime.settings, runtime.sessions)
    try:
        theirs, _ = await other_system.fetch_token()
        await api.send_text("oWx_family", "您好")
    finally:
        await other_system.close()
        await api.close()
    assert fake_wechat.issued == [theirs] and not fake_wechat.revoked
    assert (await _stored(runtime)).value == theirs and len(fake_wechat.sent) == 1


async def test_a_rejected_token_still_handed_out_is_force_refreshed(runtime: Any, fake_wechat: Any,
                                                                   api: WeChatAPI) -> None:
    try:
        token = await api.tokens.get()
        # WeChat refused it (say it leaked and was blocked), yet stable_token hands it out still
        assert await api.tokens.get(rejected=token) == "ACCESS_TOKEN_2"
    finally:
        await api.close()
    assert token == "ACCESS_TOKEN_1" and token in fake_wechat.revoked
    assert fake_wechat.calls.count("/cgi-bin/stable_token") == 3  # first, normal again, forced
