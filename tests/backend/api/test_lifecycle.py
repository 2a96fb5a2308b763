"""A booking's life through the API, as a nurse manager (console) and a nurse's app (token)
drive it; complaints answered; conversations taken over; files read with an access record."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from backend.models import AuditEntry, Notification, Slot
from backend.queries import uploads_of_user

from .helpers import book, console_login, make_token  # noqa: TID252

NURSE = {"name": "刘护士", "role": "nurse", "title": "主管护师", "years_of_practice": 8,
         "registration_no": "RN-001", "districts": ["朝阳区"], "phone": "13900000000"}


async def _kinds(runtime) -> list[str]:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        return list((await session.execute(select(Notification.kind).order_by(Notification.id))).scalars())


async def _actions(runtime) -> list[str]:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        return list((await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())


async def test_a_booking_from_confirmation_to_the_finished_visit(client, runtime, dialogue, today):
    booking = await book(dialogue, runtime)
    manager = await console_login(runtime, "manager.wu", "nurse_manager")
    nurse_app = await make_token(runtime, "nurse-app", "visits:write")
    base = f"/api/bookings/{booking.number}"

    detail = await (await client.get(base, headers=manager.cookie)).json()
    assert detail["status"] == "requested" and detail["present_phone"] == "13800138001"
    assert detail["patient"]["name"] == "王秀英" and detail["patient"]["id_number"].endswith("002X")
    assert "pii.booking_viewed" in await _actions(runtime)

    confirmed = await client.post(f"{base}/confirm", headers=manager.changing)
    assert confirmed.status == 200 and (await confirmed.json())["status"] == "confirmed"
    again = await client.post(f"{base}/confirm", headers=manager.changing)
    assert again.status == 409 and "confirmed booking cannot become confirmed" in (await again.json())["error"]

    junior = await (await client.post("/api/care-workers", headers=manager.changing, json={
        **NURSE, "name": "小王", "title": "护士", "years_of_practice": 2, "registration_no": "RN-2"})).json()
    assert any("at least 5 years" in p for p in junior["qualification_problems"])
    refused = await client.post(f"{base}/assign", json={"care_worker_id": junior["id"]}, headers=manager.changing)
    assert refused.status == 409
    reasons = (await refused.json())["reasons"]
    assert any("at least 5 years" in r for r in reasons) and any("below 护师" in r for r in reasons)
    missing = await client.post(f"{base}/assign", json={"care_worker_id": 4242}, headers=manager.changing)
    assert missing.status == 404

    nurse = await (await client.post("/api/care-workers", json=NURSE, headers=manager.changing)).json()
    assert nurse["qualification_problems"] == []
    fit = await (await client.get(f"{base}/qualified-workers", headers=manager.cookie)).json()
    assert [w["id"] for w in fit["care_workers"]] == [nurse["id"]]
    assigned = await (await client.post(f"{base}/assign", json={"care_worker_id": nurse["id"]},
                                         headers=manager.changing)).json()
    assert assigned["status"] == "assigned" and assigned["nurse"]["name"] == "刘护士"

    slots = (await (await client.get("/api/slots", params={"district": "朝阳区"}, headers=manager.cookie)).json())
    other = next(s for s in slots["slots"] if s["id"] != booking.slot_id)
    async with runtime.sessions() as session, session.begin():
        await session.execute(update(Slot).where(Slot.id == other["id"]).values(booked=Slot.capacity))
    full = await client.post(f"{base}/reschedule", json={"slot_id": other["id"]}, headers=manager.changing)
    assert full.status == 409 and "full" in (await full.json())["error"]

    where = {"latitude": 39.99, "longitude": 116.47}
    arrived = await client.post(f"/api/visits/{booking.number}/arrived", json=where, headers=nurse_app)
    assert arrived.status == 200 and (await arrived.json())["kind"] == "arrived"
    alarm = await client.post(f"/api/visits/{booking.number}/alarm", json={"note": "家属情绪激动"},
                              headers=nurse_app)
    assert alarm.status == 200
    alerts = await (await client.get("/api/alerts", headers=nurse_app)).json()
    assert [a["number"] for a in alerts["alarms"]] == [booking.number] and alerts["overdue"] == []
    finished = await (await client.post(f"/api/visits/{booking.number}/finished", headers=nurse_app)).json()
    assert finished["booking_status"] == "completed"
    late = await client.post(f"/api/visits/{booking.number}/arrived", json=where, headers=nurse_app)
    assert late.status == 409

    kinds = await _kinds(runtime)
    assert kinds[-4:] == ["booking.confirmed", "booking.assigned", "visit.arrived", "visit.rating_request"]
    token_view = await (await client.get(base, headers=await make_token(runtime, "his", "bookings:read"))).json()
    assert token_view["present_phone"] == "*******8001"
    assert [e["to_status"] for e in token_view["events"]] == ["requested", "confirmed", "assigned", "completed"]
    assert [r["kind"] for r in token_view["visit_reports"]] == ["arrived", "alarm", "finished"]

    stats = await client.get("/api/stats", params={"since": str(today - timedelta(days=24)),
                                                     "until": str(today + timedelta(days=67))},
                             headers=manager.cookie)
    body = await stats.json()
    assert body["bookings_by_state"] == {"completed": 1}
    assert [row["nurse"] for row in body["visits_per_nurse_per_day"]] == ["刘护士"]
    backwards = await client.get("/api/stats", params={"since": str(today + timedelta(days=6)),
                                                         "until": str(today - timedelta(days=24))},
                                 headers=manager.cookie)
    assert backwards.status == 400

    assert (await client.get("/api/audit/verify", headers=manager.cookie)).status == 403
    verdict = await (await client.get("/api/audit/verify",
                                      headers=await make_token(runtime, "auditor", "audit:read"))).json()
    assert verdict["ok"] is True and verdict["entries"] > 10


async def test_transcripts_and_files_are_read_with_an_access_record(client, runtime, dialogue):
    booking = await book(dialogue, runtime)
    hotline = await console_login(runtime, "hotline.li", "hotline")
    found = await (await client.get("/api/conversations", params={"q": "王秀英"}, headers=hotline.cookie)).json()
    assert [c["user_id"] for c in found["conversations"]] == [booking.channel_user_id]
    assert found["conversations"][0]["booking_numbers"] == [booking.number]
    transcript = await (await client.get(f"/api/conversations/{booking.channel_user_id}",
                                         headers=hotline.cookie)).json()
    texts = [e["text"] or "" for e in transcript["entries"]]
    assert "11010519491231002X" not in str(transcript) and "**************002X" in texts
    assert "13800138000" in texts  # console staff call the family back
    assert transcript["patient"]["phone"] == "13800138000"
    async with runtime.sessions() as session:
        upload_id = (await uploads_of_user(session, booking.channel_user_id))[0].id
    photo = await client.get(f"/api/uploads/{upload_id}", headers=hotline.cookie)
    assert photo.status == 200 and photo.content_type == "image/png"
    assert (await photo.read()).startswith(b"\x89PNG") and photo.headers["Cache-Control"] == "no-store"
    actions = await _actions(runtime)
    for action in ("pii.conversations_searched", "pii.transcript_viewed", "pii.patient_viewed",
                   "pii.upload_view"):
        assert action in actions
    system = await make_token(runtime, "crm", "transcripts:read")
    masked = await (await client.get(f"/api/conversations/{booking.channel_user_id}", headers=system)).json()
    assert "13800138000" not in str(masked)


async def test_a_complaint_is_assigned_answered_and_closed(client, runtime, dialogue):
    await dialogue.play([("投诉", "发生了什么"), ("电话一直打不通", "和哪次预约有关"),
                         ("与预约无关", "怎么回复您"), ("在这里回复我", "编号：TS")])
    hotline = await console_login(runtime, "hotline.li", "hotline")
    listed = await (await client.get("/api/complaints", params={"status": "open"}, headers=hotline.cookie)).json()
    complaint = listed["complaints"][0]
    assert complaint["text"] == "电话一直打不通" and complaint["age_hours"] >= 0
    base = f"/api/complaints/{complaint['number']}"
    assigned = await (await client.post(f"{base}/assign", json={}, headers=hotline.changing)).json()
    assert assigned["assignee"] == "hotline.li" and assigned["status"] == "in_progress"
    answered = await client.post(f"{base}/answer", json={"answer": "已核实并加开一条热线，抱歉。"},
                                 headers=hotline.changing)
    assert (await answered.json())["status"] == "resolved"
    assert (await _kinds(runtime))[-1] == "complaint.answer"
    closed = await client.post(f"{base}/status", json={"status": "closed"}, headers=hotline.changing)
    assert (await closed.json())["status"] == "closed"
    late = await client.post(f"{base}/answer", json={"answer": "再说一次"}, headers=hotline.changing)
    assert late.status == 409 and "closed" in (await late.json())["error"]


async def test_hotline_takes_over_writes_and_releases(client, runtime, dialogue):
    await dialogue.intake(until="phone")
    await dialogue.say("转人工")
    hotline = await console_login(runtime, "hotline.li", "hotline")
    queue = await (await client.get("/api/handoffs", headers=hotline.cookie)).json()
    user_id = queue["handoffs"][0]["user_id"]
    taken = await (await client.post(f"/api/conversations/{user_id}/takeover", headers=hotline.changing)).json()
    assert taken == {"user_id": user_id, "taken_over_by": "hotline.li"}
    assert (await (await client.get("/api/handoffs", headers=hotline.cookie)).json())["handoffs"] == []
    sent = await client.post(f"/api/conversations/{user_id}/messages", json={"text": "您好，我是客服小李"},
                             headers=hotline.changing)
    assert sent.status == 202
    assert await dialogue.send("我妈的电话是13800138000") == []  # the bot stays quiet
    released = await (await client.post(f"/api/conversations/{user_id}/release", headers=hotline.changing)).json()
    assert released["taken_over_by"] is None
    assert (await _kinds(runtime))[-3:] == ["staff.joined", "staff.message", "bot.back"]
    assert "详细地址" in await dialogue.say("13800138000")


async def test_the_booking_carries_its_assessment_and_uploads(client, runtime, dialogue):
    """The reviewer confirms against the pre-assessment: score, grade, every answer in words,
    the allergy as a red flag, and the intake's files."""
    booking = await book(dialogue, runtime)
    manager = await console_login(runtime, "manager.wu", "nurse_manager")
    detail = await (await client.get(f"/api/bookings/{booking.number}", headers=manager.cookie)).json()
    card = detail["assessment"]
    assert (card["barthel_score"], card["barthel_grade"], card["grade_label"]) == (65, "mild", "轻度依赖")
    assert card["red_flags"] == ["过敏：青霉素过敏"]
    answers = {a["question_id"]: a for a in card["answers"]}
    assert answers["feeding"]["answer"] == "能自己吃" and answers["feeding"]["points"] == 10
    assert answers["stable"]["answer"] == "稳定" and not answers["stable"]["red_flag"]
    assert answers["allergies"]["red_flag"] and answers["medications"]["answer"] == "阿司匹林"
    assert [u["kind"] for u in detail["uploads"]] == ["id_card", "medical_record"]
