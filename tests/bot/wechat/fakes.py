"""A fake WeChat API server on 127.0.0.1, and a family member who sends messages exactly as
WeChat pushes them (plain or safe mode), signed with the account's token."""
from __future__ import annotations

import base64
import hashlib
import itertools
import os
import time
from dataclasses import dataclass, field
from typing import Any

import xmltodict
from aiohttp import web
from aiohttp.test_utils import TestClient
from wechatpy.crypto import WeChatCrypto

from backend import clock

TOKEN = "jiahu-test-token"
APPID = "wx0123456789abcdef"
SECRET = "test-app-secret"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
OFFICIAL_ACCOUNT = "gh_0123456789ab"
PUBLIC_URL = "https://jiahu.example-hospital.cn"


# --- the fake WeChat server --------------------------------------------------------------

ERRORS = {-1: "system error", 43004: "require subscribe", 40003: "invalid openid"}


@dataclass
class FakeWeChat:
    """Serves tokens, media and uploads; records menus and customer-service messages."""

    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    sent: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    menus: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    expiry: dict[str, int] = field(default_factory=dict)  # token → when it expires (Unix seconds)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)  # openids that accepted the subscription
    typing: list[dict[str, Any]] = field(default_factory=list)
    window_closed: bool = False  # answer customer-service sends with 45015, as after 48 hours
    failures: list[int] = field(default_factory=list)  # the next sends' errors: an HTTP status or an errcode
    url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/cgi-bin/stable_token", self._stable_token)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/media/upload", self._media_upload)
        app.router.add_post("/cgi-bin/menu/create", self._menu_create)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        app.router.add_post("/cgi-bin/message/template/send", self._template_send)
        app.router.add_post("/cgi-bin/message/subscribe/bizsend", self._bizsend)
        app.router.add_post("/cgi-bin/message/custom/typing", self._typing)
        app.router.add_get("/pic/{name}", self._picture)
        return app

    def texts(self, openid: str) -> list[str]:
        return [m["text"]["content"] for m in self.sent if m["touser"] == openid and m["msgtype"] == "text"]

    def _authorised(self, request: web.Request) -> web.Response | None:
        self.calls.append(request.path)
        token = request.query.get("access_token", "")
        if token in self.revoked or token not in self.issued:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        return None

    async def _stable_token(self, request: web.Request) -> web.Response:
        """``getStableAccessToken``: the current token while it has more than 5 minutes left
        (normal mode), else, or when forced, a new one that retires the old."""
        self.calls.append(request.path)
        body = await request.json()
        if body.get("grant_type") != "client_credential" or body.get("appid") != APPID \
                or body.get("secret") != SECRET:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        current = self.issued[-1] if self.issued else None
        now = clock.timestamp()
        left = self.expiry.get(current, 0) - now if current else 0
        if current is None or current in self.revoked or left <= 300 or body.get("force_refresh"):
            if current is not None and body.get("force_refresh"):
                self.revoked.add(current)
            current = f"ACCESS_TOKEN_{len(self.issued) + 1}"
            self.issued.append(current)
            self.expiry[current] = now + 7200
            left = 7200
        return web.json_response({"access_token": current, "expires_in": int(left)})

    async def _media_get(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request)) is not None:
            return denied
        found = self.media.get(request.query.get("media_id", ""))
        if found is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        data, content_type = found
        return web.Response(body=data, content_type=content_type, headers={
            "Content-disposition": 'attachment; filename="MEDIA.jpg"'})

    async def _picture(self, request: web.Request) -> web.Response:
        data, content_type = self.media[request.match_info["name"]]
        return web.Response(body=data, content_type=content_type)

    async def _media_upload(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request)) is not None:
            return denied
        form = await request.post()
        upload = form["media"]
        media_id = f"UPLOADED_{len(self.uploads) + 1}"
        self.uploads[media_id] = upload.file.read()  # type: ignore[union-attr]
        return web.json_response({"type": request.query["type"], "media_id": media_id,
                                  "created_at": int(time.time())})

    async def _menu_create(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request)) is not None:
            return denied
        self.menus.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _custom_send(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request)) is not None:
            return denied
        if self.window_closed:
            return web.json_response({"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"})
        if self.failures:
            failure = self.failures.pop(0)
            if failure == 0:  # this one goes through
                self.sent.append(await request.json())
                return web.json_response({"errcode": 0, "errmsg": "ok"})
            if 500 <= failure < 600:  # WeChat's front end answers an HTML error page
                return web.Response(status=failure, text="<html>502 Bad Gateway</html>", content_type="text/html")
            return web.json_response({"errcode": failure, "errmsg": ERRORS.get(failure, "error")})
        self.sent.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _typing(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request)) is not None:
            return denied
        self.typing.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _bizsend(self, request: web.Request) -> web.Response:
        """``subscribe/bizsend`` as documented: touser, template_id, data {key: {value}}, page;
        43101 for a family who did not accept; 47003 when a ``thing`` value is too long."""
        if (denied := self._authorised(request)) is not None:
            return denied
        body = await request.json()
        if body.get("touser") not in self.accepted:
            return web.json_response({"errcode": 43101, "errmsg": "user refuse to accept the msg"})
        data = body.get("data")
        if not body.get("template_id") or not isinstance(data, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("value"), str) for v in data.values()):
            return web.json_response({"errcode": 47003, "errmsg": "argument invalid!"})
        if any(key.startswith("thing") and len(v["value"]) > 20 for key, v in data.items()):
            return web.json_response({"errcode": 47003, "errmsg": "argument invalid! data.thing.value exceeds limit"})
        self.subscriptions.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _template_send(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request)) is not None:
            return denied
        self.templates.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": len(self.templates)})


# --- talking to jiahu's endpoint ------------------------------------------------------------

def webhook_of(client: TestClient) -> Any:
    from bot.wechat import WEBHOOK

    return client.server.app[WEBHOOK]


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


_ids = itertools.count(int(time.time()) * 1000)
_times = itertools.count(int(time.time()))


@dataclass
class Family:
    """A family member's phone: WeChat's pushes for what they do, signed like WeChat signs."""

    client: TestClient
    fake: FakeWeChat
    openid: str = "oWx_family_0001"
    safe: bool = False
    seen: int = 0

    # documented XML formats (公众号 消息管理 / 接收普通消息, 接收事件推送)
    def _envelope(self, msg_type: str, body: str, *, msg_id: int | None = None,
                  create_time: int | None = None) -> str:
        msg_id = next(_ids) if msg_id is None else msg_id
        tail = f"<MsgId>{msg_id}</MsgId>\n" if msg_type != "event" else ""
        return ("<xml>\n"
                f"<ToUserName><![CDATA[{OFFICIAL_ACCOUNT}]]></ToUserName>\n"
                f"<FromUserName><![CDATA[{self.openid}]]></FromUserName>\n"
                f"<CreateTime>{create_time or next(_times)}</CreateTime>\n"
                f"<MsgType><![CDATA[{msg_type}]]></MsgType>\n"
                f"{body}{tail}</xml>")

    def text(self, content: str, **kw: Any) -> str:
        return self._envelope("text", f"<Content><![CDATA[{content}]]></Content>\n", **kw)

    def image(self, media_id: str, pic_url: str = "", **kw: Any) -> str:
        return self._envelope("image", f"<PicUrl><![CDATA[{pic_url}]]></PicUrl>\n"
                                       f"<MediaId><![CDATA[{media_id}]]></MediaId>\n", **kw)

    def voice(self, recognition: str | None, **kw: Any) -> str:
        extra = f"<Recognition><![CDATA[{recognition}]]></Recognition>\n" if recognition is not None else ""
        return self._envelope("voice", "<MediaId><![CDATA[VOICE_MEDIA_ID]]></MediaId>\n"
                                       f"<Format><![CDATA[amr]]></Format>\n{extra}", **kw)

    def location(self, lat: float, lon: float, label: str, **kw: Any) -> str:
        return self._envelope("location", f"<Location_X>{lat}</Location_X>\n<Location_Y>{lon}</Location_Y>\n"
                                          f"<Scale>15</Scale>\n<Label><![CDATA[{label}]]></Label>\n", **kw)

    def video(self, **kw: Any) -> str:
        return self._envelope("video", "<MediaId><![CDATA[VIDEO_ID]]></MediaId>\n"
                                       "<ThumbMediaId><![CDATA[THUMB_ID]]></ThumbMediaId>\n", **kw)

    def event(self, event: str, key: str | None = None, **kw: Any) -> str:
        body = f"<Event><![CDATA[{event}]]></Event>\n"
        if key is not None:
            body += f"<EventKey><![CDATA[{key}]]></EventKey>\n"
        return self._envelope("event", body, **kw)

    # transport
    def query_and_body(self, xml: str, *, token: str = TOKEN) -> tuple[dict[str, str], str]:
        timestamp, nonce = str(clock.timestamp()), os.urandom(6).hex()  # WeChat's time is now
        query = {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                 "openid": self.openid}
        if not self.safe:
            return query, xml
        crypto = WeChatCrypto(token, AES_KEY, APPID)
        sealed = xmltodict.parse(crypto.encrypt_message(xml, nonce, timestamp))["xml"]
        query.update(encrypt_type="aes", msg_signature=sealed["MsgSignature"])
        body = (f"<xml>\n<ToUserName><![CDATA[{OFFICIAL_ACCOUNT}]]></ToUserName>\n"
                f"<Encrypt><![CDATA[{sealed['Encrypt']}]]></Encrypt>\n</xml>")
        return query, body

    async def post(self, xml: str, **kw: Any) -> tuple[int, str]:
        query, body = self.query_and_body(xml, **kw)
        response = await self.client.post("/wechat", params=query, data=body.encode(),
                                          headers={"Content-Type": "text/xml"})
        return response.status, await response.text()

    def passive(self, body: str) -> dict[str, str] | None:
        """The passive reply in a response body (decrypted in safe mode), None for ``success``."""
        if body == "success":
            return None
        envelope = xmltodict.parse(body)["xml"]
        if self.safe:
            crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
            plain = crypto.decrypt_message(body, envelope["MsgSignature"], envelope["TimeStamp"],
                                           envelope["Nonce"])
            envelope = xmltodict.parse(plain)["xml"]
        return dict(envelope)

    async def send(self, xml: str) -> str:
        """What the family sees after this push: the passive reply and any messages that follow."""
        status, body = await self.post(xml)
        assert status == 200, body
        reply = self.passive(body)
        await webhook_of(self.client).drain()
        texts = self.fake.texts(self.openid)
        later, self.seen = texts[self.seen:], len(texts)
        return "\n\n".join([*([reply["Content"]] if reply else []), *later])
