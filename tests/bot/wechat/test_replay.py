"""What an attacker with a logged URL tries at /wechat: plain mode, old or reused signatures,
junk ciphertext; and WeChat's own retries, which must still get through."""
from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import xmltodict
from wechatpy.crypto import WeChatCrypto

from tests.conftest import recording

from .fakes import AES_KEY, APPID, OFFICIAL_ACCOUNT, TOKEN, Family, sign  # noqa: TID252


async def test_with_an_aes_key_plain_pushes_are_refused_unless_allowed(runtime: Any, family: Family) -> None:
    runtime.settings.wechat_allow_plain = False
    seen = recording(runtime)
    status, _ = await family.post(family.text("我的个人信息"))
    assert status == 403 and seen == []
    family.safe = True
    assert (await family.post(family.text("你好")))[0] == 200
    runtime.settings.wechat_allow_plain = True
    family.safe = False
    assert (await family.post(family.text("你好")))[0] == 200
    assert len(seen) == 2


async def test_old_or_future_timestamps_are_refused(client: Any, runtime: Any, family: Family,
                                                    clock: Any) -> None:
    seen = recording(runtime)
    query, body = family.query_and_body(family.text("你好"))
    clock.advance(timedelta(minutes=6))
    assert (await client.post("/wechat", params=query, data=body.encode())).status == 403
    query, body = family.query_and_body(family.text("你好"))
    clock.advance(timedelta(minutes=-12))  # the push now comes from 12 minutes in the future
    assert (await client.post("/wechat", params=query, data=body.encode())).status == 403
    clock.advance(timedelta(minutes=12))
    assert (await client.post("/wechat", params=query, data=body.encode())).status == 200
    assert len(seen) == 1
    for timestamp in ("1577836800", "not-a-number"):  # 2020, junk
        nonce = "12345"
        old = {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        assert (await client.post("/wechat", params=old, data=body.encode())).status == 403
        assert (await client.get("/wechat", params={**old, "echostr": "1"})).status == 403


async def test_a_used_signature_signs_only_the_same_message_again(client: Any, runtime: Any,
                                                                  family: Family) -> None:
    seen = recording(runtime)
    query, body = family.query_and_body(family.text("你好", msg_id=42))
    first = await client.post("/wechat", params=query, data=body.encode())
    assert first.status == 200
    retry = await client.post("/wechat", params=query, data=body.encode())  # WeChat's retry
    assert retry.status == 200
    victim = Family(client, family.fake, openid="oWx_VICTIM")
    forged = await client.post("/wechat", params=query, data=victim.text("我的个人信息").encode())
    assert forged.status == 403
    assert [(i.user_id, i.text) for i in seen] == [(family.openid, "你好")]


async def test_junk_ciphertext_with_a_valid_signature_is_400(client: Any, family: Family) -> None:
    query, _ = family.query_and_body(family.text("x"))
    for junk in ("bm90IGFlcw==", "!!!", base64.b64encode(b"x" * 48).decode()):
        msg_signature = sign(TOKEN, query["timestamp"], query["nonce"], junk)
        body = (f"<xml><ToUserName><![CDATA[{OFFICIAL_ACCOUNT}]]></ToUserName>"
                f"<Encrypt><![CDATA[{junk}]]></Encrypt></xml>")
        response = await client.post("/wechat", data=body.encode(), params={
            **query, "encrypt_type": "aes", "msg_signature": msg_signature})
        assert response.status == 400, junk
    # another account's key: decrypts to the wrong AppID
    other = WeChatCrypto(TOKEN, base64.b64encode(bytes(range(1, 33))).decode().rstrip("="), APPID)
    sealed = xmltodict.parse(other.encrypt_message(family.text("x"), query["nonce"], query["timestamp"]))["xml"]
    assert AES_KEY
    response = await client.post("/wechat", data=(
        f"<xml><Encrypt><![CDATA[{sealed['Encrypt']}]]></Encrypt></xml>").encode(), params={
        **query, "encrypt_type": "aes", "msg_signature": sealed["MsgSignature"]})
    assert response.status == 400


async def test_a_location_without_numbers_gets_a_polite_answer(runtime: Any, family: Family) -> None:
    seen = recording(runtime)
    xml = family._envelope("location", "<Location_X>north</Location_X><Location_Y>[1]</Location_Y>"
                                       "<Scale>15</Scale><Label><![CDATA[家]]></Label>")
    assert "无法处理这种消息" in await family.send(xml)
    assert [i.kind for i in seen] == ["unsupported"]


async def test_pushes_remembered_together_still_refuse_a_reused_triple(runtime: Any) -> None:
    from bot.wechat.replay import Push, remember

    push = Push("f" * 40, "1790000000", "n0nce", b"<xml>a</xml>")
    forged = Push(push.signature, push.timestamp, push.nonce, b"<xml>forged</xml>")
    other = Push("e" * 40, "1790000000", "n0nce", b"<xml>b</xml>")
    async with runtime.db.begin() as connection:
        assert await remember(connection, [push, forged, other]) == [True, False, True]
    async with runtime.db.begin() as connection:  # WeChat's retry of the same push, and the forgery again
        assert await remember(connection, [push, forged]) == [True, False]
