"""Personal-data requests: see and delete, keeping what medical-record rules oblige."""
from __future__ import annotations

from sqlalchemy import func, select

from backend import privacy
from backend.db import transaction
from backend.models import DataRequest, Intake, Patient, TranscriptEntry, Upload


async def test_family_sees_their_data_masked(dialogue):
    await dialogue.intake(until="upload_records")
    await dialogue.say("取消")
    await dialogue.say("我的个人信息")
    answer = await dialogue.say("查看我的信息")
    assert "上传文件1份" in answer and "王秀英" in answer and "002X" in answer
    assert "11010519491231002X" not in answer and "13800138000" not in answer


async def test_delete_request_erases_an_unbooked_intake(dialogue, runtime, jiahu_env):
    await dialogue.intake(until="q_feeding")
    await dialogue.say("取消")
    await dialogue.play([("我的个人信息", "查看还是删除"), ("删除我的信息", "确定要删除吗"), ("是", "已收到您的删除申请")])
    async with transaction(runtime.sessions) as session:
        request = (await session.execute(select(DataRequest))).scalar_one()
        assert request.kind == "delete" and request.status == "open"
        report = await privacy.erase(session, request, "hotline.li")
    assert report.deleted_uploads == 2 and report.deleted_patients == 1 and report.retained_intakes == []
    assert not list((jiahu_env / "files" / "uploads").rglob("*.bin"))
    async with runtime.sessions() as session:
        assert (await session.execute(select(func.count(Patient.id)))).scalar_one() == 0
        assert (await session.execute(select(func.count(Upload.id)))).scalar_one() == 0
        texts = (await session.execute(select(TranscriptEntry.text))).scalars().all()
        assert texts and all(t == privacy.ERASED for t in texts)
        request = (await session.execute(select(DataRequest))).scalar_one()
        assert request.status == "done" and request.answered_by == "hotline.li"


async def test_delete_keeps_booked_medical_records_marked(dialogue, runtime):
    await dialogue.intake()
    async with transaction(runtime.sessions) as session:
        request = await privacy.open_request(session, 1, "delete")
        report = await privacy.erase(session, request, "hotline.li")
    assert report.retained_intakes and report.deleted_uploads == 0
    async with runtime.sessions() as session:
        intake = (await session.execute(select(Intake))).scalar_one()
        assert intake.retained_reason == privacy.RETAINED
        assert (await session.execute(select(func.count(Upload.id)))).scalar_one() == 2
