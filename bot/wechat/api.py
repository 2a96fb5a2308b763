"""The few calls jiahu makes to WeChat's server API, with aiohttp against ``wechat_api_url``.

Every call carries the shared access token; when WeChat answers that the token is invalid
(errcode 40001, 40014 or 42001) the token is refreshed once and the call repeated.
"""
from __future__ import annotations

import json
from typing import Any

import aiohttp
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.settings import Settings
from bot.wechat.tokens import INVALID_TOKEN_ERRORS, AccessTokens
from flows.types import Media

log = structlog.get_logger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)


class WeChatError(Exception):
    """WeChat answered with a non-zero ``errcode``."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatAPI:
    """Customer-service messages, media, menu and token calls of one Official Account."""

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.base = settings.wechat_api_url.rstrip("/")
        self.tokens = AccessTokens(sessions, self.fetch_token)
        self._http: aiohttp.ClientSession | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def fetch_token(self, force: bool = False) -> tuple[str, int]:
        """The account's access token and its lifetime in seconds, from ``stable_token``: the
        same token for every caller while it is valid, so other processes and the hospital's
        other systems do not retire each other's tokens; ``force`` retires it (a rejected one)."""
        payload = {"grant_type": "client_credential", "appid": self.settings.wechat_appid,
                   "secret": self.settings.wechat_secret, "force_refresh": force}
        async with self.http.post(f"{self.base}/cgi-bin/stable_token", json=payload) as response:
            body = await response.json(content_type=None)
        if "access_token" not in body:
            raise WeChatError(int(body.get("errcode", -1)), str(body.get("errmsg", "")))
        log.info("wechat.token.fetched", expires_in=body.get("expires_in"), forced=force)
        return str(body["access_token"]), int(body.get("expires_in", 7200))

    async def _call(self, method: str, path: str, *, params: dict[str, str] | None = None,
                    payload: dict[str, Any] | None = None,
                    form: aiohttp.FormData | None = None) -> aiohttp.ClientResponse | dict[str, Any]:
        """One API call; a file response is returned unread (the caller releases it)."""
        token = await self.tokens.get()
        data: Any = form
        headers = {}
        if payload is not None:
            data = json.dumps(payload, ensure_ascii=False).encode()  # WeChat shows \u escapes as-is
            headers["Content-Type"] = "application/json; charset=utf-8"
        for attempt in (1, 2):
            query = {**(params or {}), "access_token": token}
            response = await self.http.request(method, f"{self.base}{path}", params=query,
                                               data=data, headers=headers)
            if "json" not in response.content_type and "text" not in response.content_type:
                return response
            try:
                body = await response.json(content_type=None)
            except ValueError:
                raise WeChatError(-1, f"{path} answered HTTP {response.status} without JSON") from None
            finally:
                response.release()
            errcode = int(body.get("errcode", 0) or 0) if isinstance(body, dict) else -1
            if errcode in INVALID_TOKEN_ERRORS and attempt == 1:
                log.warning("wechat.token.rejected", errcode=errcode)
                token = await self.tokens.get(rejected=token)
                continue
            if errcode:
                raise WeChatError(errcode, str(body.get("errmsg", "")))
            return dict(body)
        raise AssertionError("unreachable")

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        result = await self._call(method, path, **kwargs)
        if isinstance(result, aiohttp.ClientResponse):
            result.release()
            raise WeChatError(-1, f"unexpected {result.content_type} from {path}")
        return result

    async def send_text(self, openid: str, text: str) -> None:
        await self._json("POST", "/cgi-bin/message/custom/send", payload={
            "touser": openid, "msgtype": "text", "text": {"content": text}})

    async def send_template(self, openid: str, template_id: str, data: dict[str, str]) -> None:
        """A template message (模板消息), which WeChat delivers outside the 48-hour window."""
        await self._json("POST", "/cgi-bin/message/template/send", payload={
            "touser": openid, "template_id": template_id,
            "data": {name: {"value": value} for name, value in data.items()}})

    async def send_subscription(self, openid: str, template_id: str, data: dict[str, str],
                                page: str = "") -> None:
        """A subscription notification (订阅通知, ``subscribe/bizsend``) for a family who accepted it."""
        payload: dict[str, Any] = {"touser": openid, "template_id": template_id,
                                   "data": {name: {"value": value} for name, value in data.items()}}
        if page:
            payload["page"] = page
        await self._json("POST", "/cgi-bin/message/subscribe/bizsend", payload=payload)

    async def typing(self, openid: str) -> None:
        """"对方正在输入…" in the family's chat (customer-service typing state, about 15 s)."""
        await self._json("POST", "/cgi-bin/message/custom/typing", payload={
            "touser": openid, "command": "Typing"})

    async def send_image(self, openid: str, media_id: str) -> None:
        await self._json("POST", "/cgi-bin/message/custom/send", payload={
            "touser": openid, "msgtype": "image", "image": {"media_id": media_id}})

    async def upload_image(self, data: bytes, filename: str = "page.png",
                           content_type: str = "image/png") -> str:
        """Upload a temporary image (kept 3 days by WeChat) and return its ``media_id``."""
        form = aiohttp.FormData()
        form.add_field("media", data, filename=filename, content_type=content_type)
        body = await self._json("POST", "/cgi-bin/media/upload", params={"type": "image"}, form=form)
        return str(body["media_id"])

    async def download_media(self, media_id: str) -> Media:
        """A file the user sent, by its ``MediaId`` (``GET /cgi-bin/media/get``)."""
        result = await self._call("GET", "/cgi-bin/media/get", params={"media_id": media_id})
        if not isinstance(result, aiohttp.ClientResponse):
            raise WeChatError(-1, "media/get answered JSON without a file")
        return await self._read_media(result, f"{media_id}.jpg")

    async def download_url(self, url: str) -> Media:
        """A picture by its ``PicUrl`` (WeChat's CDN), the fallback when media/get fails."""
        response = await self.http.get(url)
        response.raise_for_status()
        return await self._read_media(response, "image.jpg")

    async def _read_media(self, response: aiohttp.ClientResponse, filename: str) -> Media:
        limit = self.settings.max_upload_bytes
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise WeChatError(-1, f"media larger than {limit} bytes")
                chunks.append(chunk)
        finally:
            response.release()
        return Media(b"".join(chunks), response.content_type or None, filename)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self._json("POST", "/cgi-bin/menu/create", payload=menu)
