"""A fake Telegram Bot API on 127.0.0.1 that records what the bot sends, and a family member
who talks to the bot through it (messages, photos, contacts and button presses)."""
from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

TOKEN = "123456:TEST-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Jiahu", "username": "jiahu_test_bot"}
SENDS = {"sendMessage", "sendDocument", "sendPhoto"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


class FakeBotAPI:
    """Answers the Bot API methods the channel uses; ``fail(method, …)`` queues an error answer."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.pending: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.fail_after: dict[str, int] = {}
        self.polled = 0
        self._message_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self.server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.method)
        app.router.add_get("/file/bot{token}/{path:.+}", self.download)
        return app

    def fail(self, method: str, status: int, description: str, *, after: int = 0, **parameters: Any) -> None:
        """Answer a later call of ``method`` with an error: the next one, or the one after
        ``after`` successful calls."""
        answer = {"ok": False, "error_code": status, "description": description}
        if parameters:
            answer["parameters"] = parameters
        self.failures.setdefault(method, []).append((status, answer))
        self.fail_after[method] = after

    # --- what the bot sent ----------------------------------------------------------------

    def sent(self, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method in SENDS
                and (chat_id is None or int(c.params["chat_id"]) == chat_id)]

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, check: Callable[[], bool], timeout: float = 10) -> None:
        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(check)
        await asyncio.wait_for(until(), timeout)

    async def _note(self, call: Call) -> None:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    def push(self, update: dict[str, Any]) -> None:
        self.pending.append(update)
        asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- the HTTP side --------------------------------------------------------------------

    async def method(self, request: web.Request) -> web.Response:
        assert request.match_info["token"] == TOKEN
        name = request.match_info["method"]
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "application/json":
            params = await request.json()
        elif request.body_exists:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = (value.filename, value.file.read())
                else:
                    params[key] = _decode(str(value))
            for key, value in list(params.items()):  # aiogram uploads files as attach://<name>
                if isinstance(value, str) and value.startswith("attach://"):
                    files[key] = files.pop(value.removeprefix("attach://"))
        if self.failures.get(name) and self.fail_after.get(name, 0) > 0:
            self.fail_after[name] -= 1
        elif self.failures.get(name):
            status, answer = self.failures[name].pop(0)
            await self._note(Call(f"{name}!{status}", params, files))
            return web.json_response(answer, status=status)
        if name == "getUpdates":
            self.polled += 1
            result = await self._updates(params)
            return web.json_response({"ok": True, "result": result})
        await self._note(Call(name, params, files))
        return web.json_response({"ok": True, "result": self._result(name, params, files)})

    async def _updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self.pending = [u for u in self.pending if u["update_id"] >= offset]
        if not self.pending:
            try:
                async with self._changed:
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(self.pending)),
                                           min(float(params.get("timeout") or 0), 0.5) or 0.01)
            except asyncio.TimeoutError:
                pass
        return list(self.pending)

    def _result(self, name: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name == "getFile":
            file_id = params["file_id"]
            return {"file_id": file_id, "file_unique_id": f"uq-{file_id}",
                    "file_size": len(self.files[file_id]), "file_path": f"files/{file_id}"}
        if name in SENDS:
            message = {"message_id": next(self._message_ids), "date": int(time.time()),
                       "chat": {"id": int(params["chat_id"]), "type": "private"}, "from": BOT_USER}
            if "text" in params:
                message["text"] = params["text"]
            if isinstance(params.get("reply_markup"), dict) and "inline_keyboard" in params["reply_markup"]:
                message["reply_markup"] = params["reply_markup"]
            if name == "sendDocument":
                filename = files["document"][0]
                message["document"] = {"file_id": f"doc-{message['message_id']}",
                                       "file_unique_id": f"d{message['message_id']}", "file_name": filename}
            self.messages[message["message_id"]] = message
            return message
        if name == "editMessageReplyMarkup":
            message = self.messages[int(params["message_id"])]
            message["reply_markup"] = params["reply_markup"]
            return message
        return True

    async def download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].removeprefix("files/")
        return web.Response(body=self.files[file_id])


def _decode(value: str) -> Any:
    if value[:1] in "[{":
        return json.loads(value)
    return value


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeBotAPI]:
    fake = FakeBotAPI()
    fake.server = TestServer(fake.app(), host="127.0.0.1")
    await fake.server.start_server()
    try:
        yield fake
    finally:
        await fake.server.close()


# --- a family member on Telegram ---------------------------------------------------------

_update_ids = itertools.count(5000)


@dataclass
class FamilyMember:
    """Builds the updates Telegram would deliver for what this person does."""

    api: FakeBotAPI
    deliver: Callable[[dict[str, Any]], Any]
    chat_id: int = 777001
    language_code: str = "zh-hans"
    first_name: str = "丽"
    callback_ids: list[str] = field(default_factory=list)
    runtime: Any = None  # when given, ``do`` waits until the outbox has sent the turn's replies

    @property
    def user(self) -> dict[str, Any]:
        return {"id": self.chat_id, "is_bot": False, "first_name": self.first_name,
                "language_code": self.language_code}

    def message(self, **content: Any) -> dict[str, Any]:
        return {"update_id": next(_update_ids), "message": {
            "message_id": next(_update_ids), "date": int(time.time()), "from": self.user,
            "chat": {"id": self.chat_id, "type": "private", "first_name": self.first_name}, **content}}

    def photo(self, data: bytes, file_id: str = "photo-1") -> dict[str, Any]:
        self.api.files[f"{file_id}-big"] = data
        self.api.files[f"{file_id}-thumb"] = b"thumbnail"
        return self.message(photo=[
            {"file_id": f"{file_id}-thumb", "file_unique_id": "t", "width": 90, "height": 60, "file_size": 9},
            {"file_id": f"{file_id}-big", "file_unique_id": "b", "width": 1280, "height": 853,
             "file_size": len(data)}])

    def document(self, data: bytes, filename: str, mime_type: str, file_id: str = "doc-1") -> dict[str, Any]:
        self.api.files[file_id] = data
        return self.message(document={"file_id": file_id, "file_unique_id": file_id, "file_name": filename,
                                      "mime_type": mime_type, "file_size": len(data)})

    def contact(self, phone_number: str) -> dict[str, Any]:
        return self.message(contact={"phone_number": phone_number, "first_name": self.first_name,
                                     "user_id": self.chat_id})

    def callback(self, message: dict[str, Any], data: str) -> dict[str, Any]:
        self.callback_ids.append(f"cb{next(_update_ids)}")
        return {"update_id": next(_update_ids), "callback_query": {
            "id": self.callback_ids[-1], "from": self.user, "chat_instance": "ci-1",
            "message": message, "data": data}}

    def keyboard_message(self) -> dict[str, Any]:
        """The latest message the bot sent this person with inline buttons, as it now looks."""
        for call in reversed(self.api.sent(self.chat_id)):
            markup = call.params.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                ids = [m for m in self.api.messages.values()
                       if m.get("text") == call.params.get("text") and m["chat"]["id"] == self.chat_id]
                return ids[-1]
        raise AssertionError("no inline keyboard was sent")

    def button(self, number: int | str, message: dict[str, Any] | None = None) -> str:
        """The callback data of the button labelled ``number. …`` (or with that exact text)."""
        message = message or self.keyboard_message()
        for row in message["reply_markup"]["inline_keyboard"]:
            for button in row:
                text = button["text"].removeprefix("✅ ")
                if text == str(number) or text.startswith(f"{number}. ") or text.partition(". ")[2] == number:
                    return str(button["callback_data"])
        raise AssertionError(f"no button {number!r} in {message['reply_markup']}")

    def replies_since(self, mark: int) -> str:
        """What the person saw since ``mark``: texts, captions and inline button labels."""
        lines = []
        for call in self.api.sent(self.chat_id)[mark:]:
            lines.append(str(call.params.get("text") or call.params.get("caption") or ""))
            markup = call.params.get("reply_markup")
            if isinstance(markup, dict):
                lines += [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
        return "\n".join(lines)

    async def do(self, update: dict[str, Any], expect: str | None = None) -> str:
        """Deliver ``update``; wait for a reply containing ``expect`` and return all new replies."""
        mark = len(self.api.sent(self.chat_id))
        delivered = self.deliver(update)
        if inspect.isawaitable(delivered):
            await delivered
        if expect is not None:
            try:
                await self.api.wait_for(lambda: expect in self.replies_since(mark))
            except asyncio.TimeoutError:
                raise AssertionError(f"expected {expect!r} in:\n{self.replies_since(mark)}") from None
        await self.outbox_sent()
        await asyncio.sleep(0.05)
        return self.replies_since(mark)

    async def outbox_sent(self, timeout: float = 5) -> None:
        """Wait until the outbox has tried every queued message it can send now: each
        conversation's first waiting message was attempted (it may wait for a retry)."""
        from sqlalchemy import select

        from backend.models import Notification

        if self.runtime is None:
            return
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            async with self.runtime.sessions() as session:
                waiting = (await session.execute(select(Notification).where(
                    Notification.status == "pending", Notification.kind != "consent.seal")
                    .order_by(Notification.id))).scalars()
                heads = {}
                for row in waiting:
                    heads.setdefault(row.channel_user_id, row)
            if all(row.attempts > 0 for row in heads.values()):
                return
            await asyncio.sleep(0.02)

    async def processed(self, update: dict[str, Any], timeout: float = 5) -> None:
        """Wait until the engine recorded ``update`` (polling hands it over in the background)."""
        from sqlalchemy import func, select

        from backend.models import TranscriptEntry

        key = f"u{update['update_id']}"
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            async with self.runtime.sessions() as session:
                if await session.scalar(select(func.count(TranscriptEntry.id)).where(
                        TranscriptEntry.channel_message_id == key)):
                    return
            await asyncio.sleep(0.02)
        raise AssertionError(f"update {key} was not handled")

    async def say(self, text: str, expect: str | None = None) -> str:
        return await self.do(self.message(text=text), expect)

    async def press(self, number: int | str, expect: str | None = None) -> str:
        message = self.keyboard_message()
        return await self.do(self.callback(message, self.button(number, message)), expect)


# --- the bot in each mode ----------------------------------------------------------------

WEBHOOK_SECRET = "test-webhook-secret"


@pytest.fixture
async def polling(runtime: Any, telegram_api: FakeBotAPI) -> AsyncIterator[Any]:
    """The channel fetching updates from the fake with getUpdates, as ``jiahu telegram poll``."""
    from bot import delivery
    from bot.telegram.channel import TelegramChannel
    from bot.telegram.cli import run_polling
    from bot.telegram.client import make_bot

    channel = TelegramChannel(runtime.engine, make_bot(TOKEN, telegram_api.url),
                              flush=partial(delivery.flush, runtime, "telegram"))
    runtime.senders["telegram"] = channel.deliver  # as `jiahu telegram poll` does
    task = asyncio.create_task(run_polling(channel, polling_timeout=1, handle_signals=False))
    await telegram_api.wait_for(lambda: bool(telegram_api.called("setMyCommands")))
    while not telegram_api.polled:  # polling has begun, so that it can be stopped
        await asyncio.sleep(0.01)
    yield channel
    await channel.dispatcher.stop_polling()
    await task


@pytest.fixture
async def webhook(runtime: Any, telegram_api: FakeBotAPI) -> AsyncIterator[Any]:
    """The ``jiahu serve`` app with the Telegram webhook, as a test client."""
    from aiohttp.test_utils import TestClient

    from bot.app import create_app

    runtime.settings.telegram_token = TOKEN
    runtime.settings.telegram_api_url = telegram_api.url
    runtime.settings.telegram_webhook_secret = WEBHOOK_SECRET
    client = TestClient(TestServer(create_app(runtime), host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


def post_update(client: Any, secret: str = WEBHOOK_SECRET) -> Callable[[dict[str, Any]], Any]:
    async def post(update: dict[str, Any]) -> None:
        response = await client.post("/telegram/webhook", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": secret})
        assert response.status == 200, await response.text()
    return post


@pytest.fixture(params=["polling", "webhook"])
def family(request: pytest.FixtureRequest, telegram_api: FakeBotAPI, runtime: Any) -> FamilyMember:
    """A family member talking to the bot, once by long polling and once by webhook."""
    if request.param == "polling":
        request.getfixturevalue("polling")
        return FamilyMember(telegram_api, telegram_api.push, runtime=runtime)
    client = request.getfixturevalue("webhook")
    return FamilyMember(telegram_api, post_update(client), runtime=runtime)
