"""The access log of ``jiahu serve`` never shows a query string (WeChat's signatures, openids)."""
from __future__ import annotations

import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.access_log import AccessLog


async def _success(request: web.Request) -> web.Response:
    return web.Response(text="success")


async def test_the_access_log_leaves_out_query_strings(caplog: pytest.LogCaptureFixture) -> None:
    app = web.Application()
    app.router.add_post("/wechat", _success)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log_class=AccessLog, access_log=logging.getLogger("aiohttp.access"))
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        async with TestClient(server) as client:
            response = await client.post("/wechat", params={
                "signature": "f" * 40, "timestamp": "1790000000", "nonce": "n0nce",
                "openid": "oWx_family_0001"})
            assert response.status == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 1 and '"POST /wechat" 200' in lines[0]
    assert "signature" not in lines[0] and "oWx_family" not in lines[0] and "n0nce" not in lines[0]
