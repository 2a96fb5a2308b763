"""The terminal channel keeps documents encrypted, like every other channel."""
from __future__ import annotations

import io
import re

from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.terminal import TerminalChannel
from flows.types import Outbound


async def test_a_document_becomes_a_signed_link_and_never_a_clear_file(runtime, jiahu_env):
    out = io.StringIO()
    channel = TerminalChannel(runtime.engine, runtime.sessions, user_id="demo", out=out,
                              base_url="http://127.0.0.1:8080")
    pdf = "%PDF-1.7\n王秀英 北京市朝阳区望京街道花家地小区\n%%EOF\n".encode()
    await channel.deliver("demo", [Outbound(kind="document", text="知情同意书", data=pdf,
                                            filename="consent.pdf", content_type="application/pdf")])
    link = re.search(r"http://127\.0\.0\.1:8080(/d/\d+/consent\.pdf\?exp=\d+&sig=[\w-]+)", out.getvalue())
    assert link is not None, out.getvalue()
    stored = [p for p in jiahu_env.rglob("*") if p.is_file() and p.suffix != ".db" and "nlu" not in p.parts]
    assert all(pdf not in p.read_bytes() and "王秀英".encode() not in p.read_bytes() for p in stored)
    assert not (jiahu_env / "outbox").exists()
    async with TestClient(TestServer(create_app(runtime))) as client:
        response = await client.get(link.group(1))
        assert response.status == 200 and await response.read() == pdf
