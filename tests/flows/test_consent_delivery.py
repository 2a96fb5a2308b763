"""The signed consent reaches the family as a sealed PDF, made off the chat turn."""
from __future__ import annotations

import asyncio
import hashlib
import html
import json
import re
import subprocess
from datetime import UTC, timedelta

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
    assert document.data.startswith(b"%PDF") and not document.pages  # a page to read, not page images
    assert "/d/" in document.url and ".html?" in document.url and document.url in document.text
    assert "阅读全文" in document.text
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
        response = await client.get(document.url)  # the agreement to read on a phone …
        page = await response.text()
        assert response.status == 200 and response.content_type == "text/html"
        assert 'name="viewport"' in page and "王秀英" in page and "伤口换药" in page
        assert "签署渠道：终端（测试）" in page and "family-1" not in page  # the channel in words
        download = re.search(r'<p class="download"><a href="([^"]+)" download>下载盖章的PDF文件</a>', page)
        pdf_response = await client.get(html.unescape(download.group(1)))  # … and the sealed PDF from it
        assert pdf_response.status == 200 and await pdf_response.read() == document.data
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
        # the row keeps the stored PDF's id, not the file: it stays small to claim, load and settle
        [reply] = note.payload["replies"]
        pdf = await session.get_one(Artefact, reply["artefact_id"])
        assert pdf.kind == "consent_pdf" and reply["data"] is None and len(json.dumps(note.payload)) < 4000
        await session.execute(update(Notification).values(next_attempt_at=note.created_at))
    assert await deliver_notifications(runtime) == 1
    async with runtime.sessions() as session:
        consent = (await session.execute(select(Consent))).scalar_one()
        stored = (await session.execute(select(func.count(Artefact.id)).where(
            Artefact.kind == "consent_pdf"))).scalar_one()
    assert attempts[0] == attempts[1] and stored == 1
    assert consent.pdf_sha256 == hashlib.sha256(attempts[1]).hexdigest()
    assert [e["event"] for e in consent.events].count("sealed") == 1


async def test_a_document_whose_file_was_erased_is_given_up_not_retried(dialogue, runtime):
    from sqlalchemy import delete, update

    from backend.models import Artefact

    async def down(user_id, replies, progress=None):
        raise ConnectionError("the channel is down")

    async def sender(user_id, replies, progress=None):
        raise AssertionError("nothing is left to send")

    runtime.senders["terminal"] = down
    await dialogue.intake(until="slot")
    assert await deliver_notifications(runtime) == 0
    runtime.senders["terminal"] = sender
    async with runtime.sessions() as session, session.begin():
        note = (await session.execute(select(Notification).where(
            Notification.kind == "consent.document"))).scalar_one()
        await session.execute(delete(Artefact).where(Artefact.kind == "consent_pdf"))  # as an erasure does
        await session.execute(update(Notification).values(next_attempt_at=note.created_at))
    assert await deliver_notifications(runtime) == 0
    async with runtime.sessions() as session:
        note = (await session.execute(select(Notification).where(
            Notification.kind == "consent.document"))).scalar_one()
    assert note.status == "failed" and "no longer exists" in note.last_error


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


async def test_the_evidence_record_is_stored_and_hashed_into_the_audit_chain(dialogue, runtime, tmp_path):
    """What was shown and read, how identity was checked, who signed: as JSON beside the PDF,
    its SHA-256 in the audit chain, and on the PDF's audit page."""
    import json

    from backend.models import Artefact, AuditEntry
    from backend.storage import read_decrypted

    sent = []

    async def sender(user_id, replies, progress=None):
        sent.extend(replies)

    runtime.senders["terminal"] = sender
    await dialogue.intake(until="consent")
    assert "协议全文" in await dialogue.say("我想先看一下协议全文")
    await dialogue.say("张丽")
    assert await deliver_notifications(runtime) == 1
    async with runtime.sessions() as session:
        consent = (await session.execute(select(Consent))).scalar_one()
        stored = (await session.execute(select(Artefact).where(Artefact.kind == "consent_evidence"))).scalar_one()
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.action == "consent.evidence"))).scalar_one()
    data = await read_decrypted(stored.storage_path)
    assert entry.details["sha256"] == hashlib.sha256(data).hexdigest() == stored.sha256
    evidence = json.loads(data)
    assert evidence["agreement"]["title"] == "居家护理服务协议及知情同意书"
    assert evidence["agreement"]["version"] == consent.template_version
    assert len(evidence["agreement"]["content_sha256"]) == 64
    assert evidence["shown"]["full_text_opened"] is True and evidence["shown"]["key_points_at"]
    assert evidence["channel"] == {"name": "terminal", "user_id": "family-1"}
    assert evidence["identity_checks"][0] == "身份证号码校验码与出生日期核验通过"
    assert evidence["identity_checks"][1].startswith("身份证照片已上传（SHA-256 ")
    assert evidence["signer"]["name"] == "张丽" and evidence["signer"]["relation_to_patient"] == "女儿"
    assert evidence["seal"] == {"pdf_sha256": consent.pdf_sha256, "pades": "B-B", "timestamp": None,
                                "development": True}

    pdf = tmp_path / "consent.pdf"
    pdf.write_bytes(sent[0].data)
    text = "".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())
    assert "身份证号码校验码与出生日期核验通过" in text and "已打开协议全文" in text and "打开协议全文" in text


async def test_with_a_tsa_the_sealed_consent_and_its_evidence_carry_the_timestamp(dialogue, runtime, tmp_path,
                                                                                  monkeypatch, clock):
    """PAdES B-T through the sealing job: the TSA's time is in the seal, the consent's events and
    the evidence record, and `jiahu consent verify` reports it."""
    import json

    from backend.models import Artefact
    from backend.settings import get_settings
    from backend.storage import read_decrypted
    from tests.documents.tsa import local_tsa

    with local_tsa(tmp_path) as tsa:
        monkeypatch.setenv("JIAHU_TSA_URL", tsa.url)
        monkeypatch.setenv("JIAHU_TSA_TRUST", str(tsa.root_pem))
        get_settings.cache_clear()
        runtime.senders["terminal"] = lambda *args: asyncio.sleep(0)
        await dialogue.intake(until="slot")
        assert await deliver_notifications(runtime) == 1
    async with runtime.sessions() as session:
        consent = (await session.execute(select(Consent))).scalar_one()
        stored = (await session.execute(select(Artefact).where(Artefact.kind == "consent_evidence"))).scalar_one()
        pdf = (await session.execute(select(Artefact).where(Artefact.kind == "consent_pdf"))).scalar_one()
    evidence = json.loads(await read_decrypted(stored.storage_path))
    sealed_event = consent.events[-1]
    assert evidence["seal"]["pades"] == "B-T" and evidence["seal"]["timestamp"] == sealed_event["timestamp"]
    assert sealed_event["timestamp"].startswith(clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
    path = tmp_path / "stamped.pdf"
    path.write_bytes(await read_decrypted(pdf.storage_path))
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["consent", "verify", str(path)])
    assert result.exit_code == 0 and "by jiahu test TSA, trusted" in result.output, result.output
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "B-T" in text


async def test_a_failed_recording_leaves_no_files_behind_and_the_retry_stores_them_once(
        dialogue, runtime, jiahu_env, monkeypatch):
    """The PDF and page images are written before the short transaction that records them: when
    it fails, they are deleted, and the retried job stores one set, every file in a row."""
    from sqlalchemy import update

    from backend.models import Artefact
    from flows import consent_documents

    runtime.senders["terminal"] = lambda *args: asyncio.sleep(0)
    await dialogue.intake(until="slot")
    files = jiahu_env / "files"

    def stored() -> set[str]:
        return {str(path.relative_to(files)) for path in files.glob("artefacts/**/*.bin")}

    before = stored()

    async def hospital_down(*args, **kwargs):
        raise RuntimeError("the hospital outbox is unavailable")

    notify_hospital = consent_documents.notify.notify_hospital
    monkeypatch.setattr(consent_documents.notify, "notify_hospital", hospital_down)
    assert await deliver_notifications(runtime) == 0
    assert stored() == before
    async with runtime.sessions() as session, session.begin():
        job = (await session.execute(select(Notification))).scalar_one()
        assert job.status == "pending" and "hospital outbox" in job.last_error
        assert (await session.execute(select(Consent))).scalar_one().status == "signed"
        await session.execute(update(Notification).values(next_attempt_at=job.created_at))
    monkeypatch.setattr(consent_documents.notify, "notify_hospital", notify_hospital)

    assert await deliver_notifications(runtime) == 1
    async with runtime.sessions() as session:
        paths = set((await session.execute(select(Artefact.storage_path))).scalars())
        kinds = sorted((await session.execute(select(Artefact.kind))).scalars())
    assert stored() == paths and len(paths) == len(kinds)  # every file in a row, every row a file
    # the PDF, the page the family reads and the evidence record; no page images
    assert kinds == ["consent_evidence", "consent_page_html", "consent_pdf"]
