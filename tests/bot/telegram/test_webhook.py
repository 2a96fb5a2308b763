"""Webhook mode on the ``jiahu serve`` app, and registering it with Telegram."""
from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from backend.settings import Settings
from bot.app import create_app
from bot.telegram.cli import register_webhook
from bot.telegram.client import make_bot, webhook_secret
from tests.bot.telegram.conftest import TOKEN, WEBHOOK_SECRET


async def test_updates_without_the_secret_token_are_refused(webhook, telegram_api):
    update = {"update_id": 1, "message": {"message_id": 1, "date": 1, "text": "/start",
                                          "chat": {"id": 5, "type": "private"}}}
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"},
                    {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET + "x"}):
        response = await webhook.post("/telegram/webhook", json=update, headers=headers)
        assert response.status == 403
    assert not telegram_api.sent()


async def test_a_body_that_is_not_an_update_is_a_bad_request(webhook):
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    response = await webhook.post("/telegram/webhook", data=b"{not json", headers=headers)
    assert response.status == 400
    response = await webhook.post("/telegram/webhook", json={"message": "x"}, headers=headers)
    assert response.status == 400


async def test_no_webhook_without_a_bot_token(runtime):
    client = TestClient(TestServer(create_app(runtime), host="127.0.0.1"))
    await client.start_server()
    try:
        response = await client.post("/telegram/webhook", json={})
        assert response.status in (404, 405)
    finally:
        await client.close()


async def test_set_webhook_registers_the_url_secret_and_commands(telegram_api):
    settings = Settings(telegram_token=TOKEN, secret_key="k" * 40)
    bot = make_bot(TOKEN, telegram_api.url)
    async with bot:
        await register_webhook(bot, settings, "https://jiahu.example.org/telegram/webhook")
    (call,) = telegram_api.called("setWebhook")
    assert call.params["url"] == "https://jiahu.example.org/telegram/webhook"
    assert call.params["secret_token"] == webhook_secret(settings)
    commands = telegram_api.called("setMyCommands")
    assert [c.params.get("language_code") for c in commands] == [None, "zh"]
    assert {c["command"] for c in commands[1].params["commands"]} == {
        "start", "status", "cancel", "human", "help", "lang"}


def test_the_webhook_secret_is_derived_when_not_configured():
    derived = webhook_secret(Settings(telegram_token=TOKEN, secret_key="k" * 40))
    assert len(derived) == 64 and derived.isalnum()
    assert derived != webhook_secret(Settings(telegram_token=TOKEN, secret_key="j" * 40))
    assert webhook_secret(Settings(telegram_webhook_secret="mine", secret_key="k" * 40)) == "mine"


async def test_odd_secrets_and_bodies_are_4xx_not_500(webhook, telegram_api):
    import asyncio

    for raw_secret in ("密钥".encode(), b"\xff\xfe", WEBHOOK_SECRET.encode() + "é".encode()):
        reader, writer = await asyncio.open_connection(webhook.server.host, webhook.server.port)
        writer.write(b"POST /telegram/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"X-Telegram-Bot-Api-Secret-Token: " + raw_secret + b"\r\n"
                     b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
        answer = await reader.readline()
        writer.close()
        await writer.wait_closed()
        assert answer.split()[1] == b"403", (raw_secret, answer)
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}
    for body in (b'{"update_id": "\xff\xfe"}', b"[" * 100_000 + b"]" * 100_000,
                 b'{"update_id": 1, "message": ' + b'{"a":' * 5000 + b"1" + b"}" * 5001):
        response = await webhook.post("/telegram/webhook", data=body, headers=headers)
        assert response.status == 400, body[:30]
    assert not telegram_api.sent()
