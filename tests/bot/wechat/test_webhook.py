"""The /wechat endpoint as WeChat drives it: verification, signatures, both modes, samples."""
from __future__ import annotations

from typing import Any

import pytest

from backend import clock
from flows.types import Location
from tests.conftest import recording

from .fakes import TOKEN, Family, sign  # noqa: TID252


def same_picture(one: bytes, other: bytes) -> bool:
    """The same pixels (photos are re-encoded before the engine sees them)."""
    import io

    from PIL import Image

    a, b = Image.open(io.BytesIO(one)), Image.open(io.BytesIO(other))
    return a.size == b.size and a.tobytes() == b.tobytes()


async def test_url_verification_echoes_echostr(client: Any) -> None:
    timestamp, nonce = str(clock.timestamp()), "1405251234"
    query = {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
             "echostr": "5837397520665436492"}
    response = await client.get("/wechat", params=query)
    assert response.status == 200
    assert await response.text() == "5837397520665436492"

    assert (await client.get("/wechat", params={**query, "signature": "0" * 40})).status == 403
    assert (await client.get("/wechat", params={"echostr": "1"})).status == 403


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
async def test_wrong_or_missing_signature_is_403_and_never_processed(
        client: Any, runtime: Any, family: Family, safe: bool) -> None:
    family.safe = safe
    seen = recording(runtime)
    status, _ = await family.post(family.text("你好"), token="not-our-token")
    assert status == 403
    response = await client.post("/wechat", data=family.text("你好").encode())
    assert response.status == 403
    if safe:  # right URL signature, tampered message signature
        query, body = family.query_and_body(family.text("你好"))
        response = await client.post("/wechat", params={**query, "msg_signature": "0" * 40},
                                     data=body.encode())
        assert response.status == 403
    assert seen == []


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
async def test_body_that_is_not_xml_is_400(client: Any, family: Family, safe: bool) -> None:
    query, _ = family.query_and_body(family.text("x"))
    if safe:
        query["encrypt_type"] = "aes"
    for body in (b"{\"not\": \"xml\"}", b"<xml><unclosed></xml>", b"<xml><Content>x</Content></xml>"):
        response = await client.post("/wechat", params=query, data=body)
        assert response.status == 400, body


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
async def test_documented_samples_become_inbounds(runtime: Any, fake_wechat: Any, family: Family,
                                                  png: bytes, safe: bool) -> None:
    family.safe = safe
    seen = recording(runtime)
    fake_wechat.media["ID_CARD_MEDIA"] = (png, "image/png")

    welcome = await family.send(family.event("subscribe"))
    assert "预约上门护理" in welcome
    assert "回复数字" in welcome  # choices rendered as numbered options
    await family.send(family.text("你好", msg_id=6054768590064713728))
    await family.send(family.image("ID_CARD_MEDIA", f"{fake_wechat.url}/pic/none"))
    voice_reply = await family.send(family.voice("我要预约上门护理。"))
    await family.send(family.location(39.9928, 116.4737, "北京市朝阳区望京街道花家地小区"))
    await family.send(family.event("CLICK", "status"))
    await family.send(family.event("unsubscribe"))

    assert [(i.kind, i.event) for i in seen] == [
        ("event", "subscribe"), ("text", None), ("image", None), ("voice", None),
        ("location", None), ("event", "menu:status"), ("event", "unsubscribe")]
    assert all(i.channel == "wechat" and i.user_id == family.openid for i in seen)
    assert seen[1].text == "你好" and seen[1].message_id == "6054768590064713728"
    assert seen[0].message_id.startswith(f"{family.openid}:") and seen[0].message_id.endswith(":subscribe")
    assert same_picture(seen[2].media[0].data, png)  # re-encoded, same pixels
    assert seen[3].text == "我要预约上门护理。"
    assert "个人信息处理告知" in voice_reply  # the recognised words were understood
    assert seen[4].location == Location(39.9928, 116.4737, "北京市朝阳区望京街道花家地小区")


async def test_voice_without_recognition_and_video_get_polite_answers(runtime: Any, family: Family) -> None:
    seen = recording(runtime)
    assert "语音" in await family.send(family.voice(None))
    assert "无法处理这种消息" in await family.send(family.video())
    assert [(i.kind, i.text) for i in seen] == [("voice", None), ("unsupported", None)]


async def test_image_falls_back_to_picurl(runtime: Any, fake_wechat: Any, family: Family,
                                          png: bytes) -> None:
    seen = recording(runtime)
    fake_wechat.media["cdn.png"] = (png, "image/png")
    await family.send(family.image("EXPIRED_MEDIA_ID", f"{fake_wechat.url}/pic/cdn.png"))
    assert same_picture(seen[0].media[0].data, png)


async def test_menu_link_views_and_location_reports_are_acknowledged(runtime: Any, family: Family) -> None:
    seen = recording(runtime)
    assert await family.post(family.event("VIEW", "https://example.org")) == (200, "success")
    assert seen == []


async def test_endpoint_exists_only_when_the_token_is_set(runtime: Any) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import create_app

    runtime.settings.wechat_token = ""
    client = TestClient(TestServer(create_app(runtime), host="127.0.0.1"))
    await client.start_server()
    try:
        assert (await client.get("/wechat")).status == 404
    finally:
        await client.close()
