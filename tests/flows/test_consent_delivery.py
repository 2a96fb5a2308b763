"""The signed consent reaches the family as a sealed PDF, made off the chat turn."""
from __future__ import annotations

import asyncio
import hashlib
import subprocess
from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from typer.testing import CliRunner

from backend.models import Consent, Notification
from bot.app import create_app
from bot.cli import app as cli
from bot.notifier import deliver_notifications


async def test_sealed_consent_is_delivered_stored_and_verifiable(dialogue, runtime, tmp_path, clock):
    sent = []

    async def sender(user_id, replies, progress=None):
        sent.extend(replies)

    runtime.senders["terminal"] = sender
    await dialogue.intake(until="slot")
    async with runtime.sessions() as session:
        queued = (await session.execute(select(Notification))).scalar_one()
    assert queued.kind == "consent.seal" and queued.status == "pending"  # the turn did not render
    assert await deliver_notifications(runtime) == 1
    [document] = sent
    assert document.kind == "document" and document.content_type == "application/pdf"
    assert document.data.startswith(b"%PDF") and document.pages and document.pages[0][:8] == b"\x89PNG\r\n\x1a\n"
    assert "/d/" in document.url and "下载链接" in document.text
    async with runtime.sessions() as session:
        consent = (await session.execute(select(Consent))).scalar_one()
    assert consent.status == "sealed" and consent.pdf_sha256 == hashlib.sha256(document.data).hexdigest()
    assert [e["event"] for e in consent.events] == ["created", "sent", "signed", "sealed"]

    pdf = tmp_path / "consent.pdf"
    pdf.write_bytes(document.data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "王秀英" in text and "张丽" in text and "伤口换药" in text and "****002X" in text.replace(" ", "")
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["consent", "verify", str(pdf)])
    assert result.exit_code == 0 and "matches the database record" in result.output

    async with TestClient(TestServer(create_app(runtime))) as client:
        response = await client.get(document.url)
        assert response.status == 200 and await response.read() == document.data
        forged = document.url.replace("sig=", "sig=x")
        assert (await client.get(forged)).status == 403
        for _ in range(5):  # reloads within the hour leave one trace, not one each
            assert (await client.get(document.url)).status == 200
        clock.advance(timedelta(minutes=61))
        assert (await client.get(document.url)).status == 200
    async with runtime.sessions() as session:
        consent = (await session.execute(select(Consent))).scalar_one()
    assert [e["event"] for e in consent.events][-3:] == ["sealed", "opened", "opened"]


async def test_a_failed_delivery_is_retried_with_the_same_sealed_pdf(dialogue, runtime):
    from sqlalchemy import func, update

    from backend.models import Artefact

    attempts: list[bytes] = []

    async def flaky(user_id, replies, progress=None):
        attempts.append(replies[0].data)
        if len(attempts) == 1:
            raise ConnectionError("the channel is down")

    runtime.senders["terminal"] = flaky
    await dialogue.intake(until="slot")
    assert await deliver_notifications(runtime) == 0
    async with runtime.sessions() as session, session.begin():
        note = (await session.execute(select(Notification).where(
            Notification.kind == "consent.document"))).scalar_one()
        assert note.status == "pending" and note.attempts == 1 and "channel is down" in note.last_error
        await session.execute(update(Notification).values(next_attempt_at=note.created_at))
    assert await deliver_notifications(runtime) == 1
    async with runtime.sessions() as session:
        consent = (await session.execute(select(Consent))).scalar_one()
        stored = (await session.execute(select(func.count(Artefact.id)).where(
            Artefact.kind == "consent_pdf"))).scalar_one()
    assert attempts[0] == attempts[1] and stored == 1
    assert consent.pdf_sha256 == hashlib.sha256(attempts[1]).hexdigest()
    assert [e["event"] for e in consent.events].count("sealed") == 1


async def test_a_change_after_signing_is_reviewed_and_signed_again(dialogue, runtime, tmp_path):
    """The sealed PDF carries only values the family confirmed in the review: a correction after
    the signature supersedes the signed consent, goes back to the review and is signed again."""
    sent = []

    async def sender(user_id, replies, progress=None):
        sent.extend(replies)

    runtime.senders["terminal"] = sender
    await dialogue.intake(until="slot")
    await dialogue.play([
        ("地址写错了，应该是北京市朝阳区望京街道花家地小区5号楼1单元101", "以上都正确吗"),
        ("确认无误", "请输入您的全名“张丽”作为签名"),
        ("张丽", "请选择上门时间"),
        ("1", "确认预约吗"),
        ("确认", "预约编号"),
    ])
    review = dialogue.log[-5].split("签署前请核对")[1]
    assert "花家地小区5号楼1单元101" in review and "3号楼2单元501" not in review
    assert await deliver_notifications(runtime) == 1  # the superseded consent is never sealed
    [document] = [reply for reply in sent if reply.kind == "document"]
    async with runtime.sessions() as session:
        consents = (await session.execute(select(Consent).order_by(Consent.id))).scalars().all()
    assert [c.status for c in consents] == ["superseded", "sealed"]
    assert consents[1].pdf_sha256 == hashlib.sha256(document.data).hexdigest()
    pdf = tmp_path / "consent.pdf"
    pdf.write_bytes(document.data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = text.replace(" ", "").replace("\n", "")
    assert "花家地小区5号楼1单元101" in flat and "3号楼2单元501" not in flat
