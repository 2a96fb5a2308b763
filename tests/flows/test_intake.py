"""The whole intake as a family member lives it, and what goes wrong along the way."""
from __future__ import annotations

import re

from sqlalchemy import func, select, text

from backend.models import (
    Assessment,
    Booking,
    Consent,
    Intake,
    Patient,
    Slot,
    TranscriptEntry,
    Upload,
)
from flows.types import Media


async def test_complete_intake_from_greeting_to_booking_number(dialogue, runtime):
    await dialogue.intake()
    final = dialogue.log[-1]
    number = re.search(r"JH\d{12}", final).group()
    async with runtime.sessions() as session:
        booking = (await session.execute(select(Booking))).scalar_one()
        intake = await session.get(Intake, booking.intake_id)
        patient = await session.get(Patient, booking.patient_id)
        consent = (await session.execute(select(Consent))).scalar_one()
        assessment = (await session.execute(select(Assessment))).scalar_one()
        uploads = (await session.execute(select(Upload).order_by(Upload.id))).scalars().all()
    assert booking.number == number
    assert booking.status == "requested"
    assert booking.service_codes == ["wound_care", "pressure_ulcer_care"]
    assert booking.present_name == "张丽" and booking.present_relation == "daughter"
    assert str(booking.total_price) == "280.00"  # 80 + 100 + 30 + 10 + 60
    assert intake.status == "booked" and intake.applicant_relation == "daughter"
    assert intake.privacy_notice_version == "2026-11"
    assert patient.name == "王秀英" and patient.sex == "F" and patient.district == "朝阳区"
    assert patient.birth_date.isoformat() == "1949-12-31"
    assert consent.signer_name == "张丽" and consent.status == "signed"
    assert [e["event"] for e in consent.events] == ["created", "sent", "signed"]
    assert assessment.barthel_score == 65 and assessment.barthel_grade == "mild"
    assert [u.kind for u in uploads] == ["id_card", "medical_record"]
    assert all(u.content_type == "image/png" for u in uploads)
    async with runtime.sessions() as session:
        carried = (await session.execute(select(TranscriptEntry.upload_id).where(
            TranscriptEntry.upload_id.is_not(None)).order_by(TranscriptEntry.id))).scalars().all()
    assert carried == [u.id for u in uploads]  # each file message points at what it stored


async def test_personal_data_is_encrypted_at_rest(dialogue, runtime, jiahu_env):
    await dialogue.intake()
    async with runtime.db.connect() as conn:
        raw_patient = (await conn.execute(text("SELECT id_number, phone, address FROM patients"))).one()
        raw_transcript = " ".join(str(r[0]) for r in await conn.execute(text("SELECT text FROM transcript")))
        raw_state = (await conn.execute(text("SELECT data FROM conversation_states"))).scalar_one()
    for clear in ("11010519491231002X", "13800138000", "望京"):
        assert all(clear not in str(value) for value in raw_patient)
        assert clear not in raw_transcript
        assert clear not in raw_state
    stored = list((jiahu_env / "files").rglob("*.bin"))
    assert len(stored) == 2
    assert all(b"IHDR" not in path.read_bytes() for path in stored)  # PNG header not in clear


async def test_bad_id_numbers_are_explained_and_nothing_is_lost(dialogue):
    await dialogue.intake(until="id_number")
    await dialogue.play([
        ("11010519491231002", "应为18位"),
        ("110105194912310021", "校验位不对"),
        ("110105194913310021", "出生日期不对"),
        ("110105203001010028", "出生日期不对"),  # born in the future
        ("1101051949123100AX", "格式不对"),
        ("11010519491231002X", "1949-12-31"),
    ])
    answer = await dialogue.say("返回")
    assert "18位身份证号码" in answer  # back at the ID question, earlier answers kept
    assert "王秀英" not in answer


async def test_bad_phone_is_refused_politely(dialogue):
    await dialogue.intake(until="phone")
    await dialogue.play([
        ("12345", "电话号码格式不对"),
        ("138001380", "电话号码格式不对"),
        ("010-12345678", "详细地址"),
    ])


async def test_address_outside_the_service_area(dialogue):
    await dialogue.intake(until="address")
    await dialogue.play([
        ("上海市浦东新区世纪大道100号", "不在我们的上门服务范围内"),
        ("北京市通州区梨园镇云景里5号楼", "通州区不在我们的上门服务范围内"),
        ("望京西园三区5号楼1单元302", "属于哪个区"),
        ("不在以上区域", "不在我们的上门服务范围内"),
        ("3", "身份证的正面照片"),  # 朝阳区
    ])


async def test_unsupported_and_oversized_uploads(dialogue, png):
    await dialogue.intake(until="upload_id")
    answer = await dialogue.say(media=[Media(b"MZ\x90\x00" + b"\x00" * 200, "image/jpeg", "virus.jpg")])
    assert "格式不支持" in answer
    big = png + b"\x00" * (10 * 1024 * 1024)
    answer = await dialogue.say(media=[Media(big, "image/png", "huge.png")])
    assert "文件太大" in answer
    answer = await dialogue.say("我没有照片")
    assert "请发送一张照片或PDF文件" in answer
    answer = await dialogue.say(media=[Media(png, "image/png", "id.png")])
    assert "身份证照片已收到" in answer


MINIMAL_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
               b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
               b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
               b"trailer<</Root 1 0 R>>\n%%EOF\n")


async def test_pdf_medical_records_and_several_files(dialogue, runtime, png):
    await dialogue.intake(until="upload_records")
    answer = await dialogue.say(media=[Media(MINIMAL_PDF, "application/pdf", "出院小结.pdf")])
    assert "已收到第1份资料" in answer
    answer = await dialogue.say(media=[Media(png, None, "wound.png"), Media(png, None, "rx.png")])
    assert "已收到第3份资料" in answer
    assert "进食" in await dialogue.say("完成")
    async with runtime.sessions() as session:
        kinds = (await session.execute(select(Upload.content_type).where(
            Upload.kind == "medical_record").order_by(Upload.id))).scalars().all()
    assert kinds == ["application/pdf", "image/png", "image/png"]


async def test_unknown_answer_reprompts_with_the_choices_then_offers_a_human(dialogue):
    await dialogue.intake(until="q_feeding")
    first = await dialogue.say("随便")
    assert "请从下面的选项中选择" in first and "1. 能自己吃" in first
    second = await dialogue.say("不知道啊")
    assert "转人工" in second


async def test_negative_list_and_assessment_rule_out_services(dialogue):
    await dialogue.intake(until="services")
    answer = await dialogue.say("输液")
    assert "不能上门提供" in answer and "必须在医疗机构内进行" in answer
    answer = await dialogue.say("化疗")
    assert "化疗需要医院内的监护" in answer
    answer = await dialogue.say("换药")
    assert "已选择：伤口换药" in answer


async def test_unstable_condition_stops_the_booking(dialogue, runtime):
    await dialogue.intake(until="q_stable")
    await dialogue.say("2")  # not stable
    await dialogue.say("1")
    await dialogue.say("卧床")
    await dialogue.say("无")
    await dialogue.say("无")
    answer = await dialogue.say("换药")
    assert "不适合居家护理" in answer and "120" in answer
    async with runtime.sessions() as session:
        intake = (await session.execute(select(Intake))).scalar_one()
        assert intake.status == "not_eligible"
        assert (await session.execute(select(func.count(Booking.id)))).scalar_one() == 0


async def test_engine_restart_mid_questionnaire_resumes_at_the_same_question(dialogue, runtime):
    from backend.settings import get_settings
    from bot.runtime import open_runtime

    await dialogue.intake(until="q_toilet")
    await runtime.close()  # the server goes away in the middle of the questionnaire
    restarted = await open_runtime(get_settings(), migrate=False)
    try:
        again = type(dialogue)(restarted.engine, user_id=dialogue.user_id, counter=dialogue.counter)
        answer = await again.say("帮助")
        assert "如厕" in answer
        assert "床椅转移" in await again.say("2")
        answer = await again.say("返回")
        assert "如厕" in answer
    finally:
        await restarted.close()


async def test_redelivered_message_is_processed_once_and_answered_again(dialogue, runtime):
    """A channel's retry (the first answer was lost with a crashed process) gets the answer the
    committed turn gave, and the conversation does not move on twice."""
    await dialogue.say("你好")
    replies = [await dialogue.send("预约", message_id="wx-123", retry_expects_answer=True) for _ in range(3)]
    texts = [[(r.kind, r.text, [c.label for c in r.choices]) for r in turn] for turn in replies]
    assert "个人信息处理告知" in texts[0][0][1] and texts[1] == texts[0] and texts[2] == texts[0]
    assert await dialogue.send("预约", message_id="wx-123") == []  # a channel that needs no answer again
    assert "家属代为申请" in await dialogue.say("同意")  # the turn after, not the notice again
    async with runtime.sessions() as session:
        count = (await session.execute(select(func.count(TranscriptEntry.id)).where(
            TranscriptEntry.channel_message_id == "wx-123"))).scalar_one()
    assert count == 1


async def test_consent_signature_must_match_the_applicant(dialogue):
    await dialogue.intake(until="consent")
    await dialogue.play([
        ("李四", "签名需要与申请人姓名“张丽”一致"),
        ("签名：张丽", "请选择上门时间"),
    ])


async def test_declining_the_privacy_notice_ends_politely(dialogue, runtime):
    await dialogue.play([("预约", "个人信息处理告知"), ("不同意", "不会收集您的信息")])
    async with runtime.sessions() as session:
        assert (await session.execute(select(func.count(Intake.id)))).scalar_one() == 0


async def test_more_dates_on_request(dialogue, runtime):
    """"还有别的时间吗" (or the 更多日期 option) offers the next open times instead of a fixed 8."""
    await dialogue.intake(until="slot")
    first_page = dialogue.log[-1]
    assert "9. 更多日期" in first_page
    later = await dialogue.say("还有别的时间吗")
    assert "以下是更晚一些的上门时间" in later and "9. 更多日期" in later
    first_shown = re.search(r"\n1\. (.+)", later).group(1)
    assert first_shown not in first_page
    await dialogue.play([("1", "确认预约吗"), ("确认", "预约编号")])
    async with runtime.sessions() as session:
        booking = (await session.execute(select(Booking))).scalar_one()
        slot = await session.get_one(Slot, booking.slot_id)
    assert f"{slot.day.month}月{slot.day.day}日" in first_shown
