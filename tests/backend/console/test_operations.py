"""The console's operations over HTTP: personal-data requests carried out, alarms handled, the
schedule's capacity and extra slots — with their permissions, CSRF and audit entries."""
from __future__ import annotations

import re
from datetime import time, timedelta

from sqlalchemy import select

from backend import clock, visits
from backend.db import transaction
from backend.models import AuditEntry, Booking, DataRequest, Intake, Slot, TranscriptEntry
from backend.privacy import ERASED, RETAINED
from tests.backend.console.conftest import Staff


async def _actions(runtime) -> list[str]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())


async def _deletion_request(dialogue) -> None:
    """A family stops in the middle of the intake and asks for its data to be deleted."""
    await dialogue.intake(until="q_feeding")
    await dialogue.say("取消")
    await dialogue.play([("我的个人信息", "查看还是删除"), ("删除我的信息", "确定要删除吗"),
                         ("是", "已收到您的删除申请")])


async def test_a_deletion_request_is_carried_out_from_the_console(as_staff: Staff, client, dialogue, runtime):
    await _deletion_request(dialogue)
    await as_staff.login("li.hotline")
    dashboard = await (await client.get("/console/")).text()
    assert "/console/data-requests" in dashboard and re.search(r"<b>1</b>待处理个人信息申请", dashboard)
    listing = await client.get("/console/data-requests")
    text = await listing.text()
    assert listing.status == 200, text
    request_id = re.search(r'/console/data-requests/(\d+)"', text).group(1)
    assert "删除" in text and "待处理" in text and "终端" in text and "执行删除" in text
    user_id = re.search(r'/console/conversations/(\d+)"', text).group(1)
    assert 'class="late"' not in text  # due in 15 days

    page = await (await client.get(f"/console/data-requests/{request_id}")).text()
    assert "我已核实申请，确认删除" in page and f"/console/conversations/{user_id}" in page
    # without the confirmation box, without the CSRF token: nothing is deleted
    unconfirmed = await as_staff.post(f"/console/data-requests/{request_id}/erase")
    assert unconfirmed.status == 400 and "请先勾选确认" in await unconfirmed.text()
    forged = await client.post(f"/console/data-requests/{request_id}/erase", data={"confirm": "yes"})
    assert forged.status == 403
    assert "data_request.erased" not in await _actions(runtime)

    done = await as_staff.post(f"/console/data-requests/{request_id}/erase", confirm="yes")
    assert done.status == 303 and done.headers["Location"].endswith("ok=erased")
    result = await (await client.get(done.headers["Location"])).text()
    assert "已按申请删除个人信息" in result and "删除结果" in result and "已完成" in result
    assert "患者资料 1 份" in result and "对话内容已清除" in result and "已标记保留" not in result
    assert "我已核实申请" not in result  # no second erasure offered
    again = await as_staff.post(f"/console/data-requests/{request_id}/erase", confirm="yes")
    assert again.status == 409 and "已经处理完毕" in await again.text()

    async with runtime.sessions() as session:
        request = await session.get_one(DataRequest, int(request_id))
        texts = (await session.execute(select(TranscriptEntry.text).where(
            TranscriptEntry.channel_user_id == int(user_id)))).scalars().all()
    assert request.status == "done" and request.answered_by == "li.hotline"
    assert texts and set(texts) == {ERASED}
    assert (await _actions(runtime)).count("data_request.erased") == 1
    listing = await (await client.get("/console/data-requests")).text()
    assert "已完成" in listing and "执行删除" not in listing


async def test_a_booked_visit_is_kept_and_marked_when_the_family_asks_for_deletion(
        as_staff: Staff, client, dialogue, runtime):
    await dialogue.intake()
    number = re.search(r"JH\d{12}", dialogue.log[-1]).group()
    await dialogue.play([("我的个人信息", "查看还是删除"), ("删除我的信息", "确定要删除吗"),
                         ("是", "已收到您的删除申请")])
    async with transaction(runtime.sessions) as session:
        request = (await session.execute(select(DataRequest))).scalar_one()
        request.due_at = clock.now() - timedelta(days=1)
    await as_staff.login("admin")
    listing = await (await client.get("/console/data-requests")).text()
    assert 'class="late"' in listing and "已逾期" in listing
    assert "（1 件逾期）" in await (await client.get("/console/")).text()
    done = await as_staff.post(f"/console/data-requests/{request.id}/erase", confirm="yes")
    assert done.status == 303
    result = await (await client.get(done.headers["Location"])).text()
    assert f"保留：预约 {number}" in result and "已标记保留" in result
    async with runtime.sessions() as session:
        intake = (await session.execute(select(Intake))).scalar_one()
    assert intake.retained_reason == RETAINED


async def test_who_may_see_personal_data_requests(as_staff: Staff, client, dialogue):
    await _deletion_request(dialogue)
    await as_staff.login("zhao.manager")  # nurse managers have no data_requests scope
    page = await (await client.get("/console/")).text()
    assert "/console/data-requests" not in page and "个人信息申请" not in page
    response = await client.get("/console/data-requests")
    assert response.status == 403 and "无权访问" in await response.text()
    assert (await client.get("/console/data-requests/1")).status == 403
    refused = await as_staff.post("/console/data-requests/1/erase", confirm="yes")
    assert refused.status == 403


async def test_an_alarm_is_handled_from_the_dashboard(as_staff: Staff, client, dialogue, runtime):
    await dialogue.intake()
    async with transaction(runtime.sessions) as session:
        booking = (await session.execute(select(Booking))).scalar_one()
        booking.status = "assigned"
        alarm = await visits.report(session, booking, "alarm", "nurse", note="老人跌倒，已拨打120")
    await as_staff.login("li.hotline")  # sees the alarm, may not mark it handled
    page = await (await client.get("/console/")).text()
    assert "老人跌倒，已拨打120" in page and f"/console/alarms/{alarm.id}/handled" not in page
    assert (await as_staff.post(f"/console/alarms/{alarm.id}/handled")).status == 403

    await as_staff.post("/console/logout")
    await as_staff.login("zhao.manager")
    page = await (await client.get("/console/")).text()
    assert f'action="/console/alarms/{alarm.id}/handled"' in page and "已处理" in page
    forged = await client.post(f"/console/alarms/{alarm.id}/handled", data={"note": "x"})
    assert forged.status == 403
    handled = await as_staff.post(f"/console/alarms/{alarm.id}/handled", note="已联系家属，送医")
    assert handled.status == 303 and handled.headers["Location"] == "/console/?ok=alarm_handled"
    page = await (await client.get(handled.headers["Location"])).text()
    assert "报警已标记为已处理" in page and "没有未处理的报警" in page and "老人跌倒" not in page
    assert (await as_staff.post("/console/alarms/999999/handled")).status == 404
    async with runtime.sessions() as session:
        assert await visits.open_alarms(session) == []
        entry = (await session.execute(select(AuditEntry).where(
            AuditEntry.action == "visit.alarm_handled"))).scalar_one()
    assert entry.actor == "zhao.manager" and entry.details["note"] == "已联系家属，送医"


async def test_the_schedule_shows_capacity_and_refuses_less_than_booked(as_staff: Staff, client, dialogue, runtime):
    await dialogue.intake()
    async with runtime.sessions() as session:
        booking = (await session.execute(select(Booking))).scalar_one()
        slot = await session.get_one(Slot, booking.slot_id)
    await as_staff.login("zhao.manager")
    page = await client.get("/console/schedule", params={"district": slot.district})
    text = await page.text()
    assert page.status == 200, text
    assert f'action="/console/schedule/slots/{slot.id}/capacity"' in text
    today = clock.today()
    assert today + timedelta(days=1) <= slot.day <= today + timedelta(days=14)
    row = re.search(rf"<tr>(?:(?!</tr>).)*?/console/schedule/slots/{slot.id}/capacity.*?</tr>", text, re.S).group()
    assert f"{slot.start.strftime('%H:%M')}–{slot.end.strftime('%H:%M')}" in row
    assert re.search(r'<td class="num">1</td>', row)  # booked

    refused = await as_staff.post(f"/console/schedule/slots/{slot.id}/capacity", capacity="0",
                                  district=slot.district)
    assert refused.status == 409
    assert "该时段已有 1 个预约，容量不能改为 0" in await refused.text()
    forged = await client.post(f"/console/schedule/slots/{slot.id}/capacity",
                               data={"capacity": "5", "district": slot.district})
    assert forged.status == 403
    changed = await as_staff.post(f"/console/schedule/slots/{slot.id}/capacity", capacity="5",
                                  district=slot.district)
    assert changed.status == 303 and "ok=capacity_changed" in changed.headers["Location"]
    assert "时段容量已修改" in await (await client.get(changed.headers["Location"])).text()
    async with runtime.sessions() as session:
        assert (await session.get_one(Slot, slot.id)).capacity == 5
    assert (await _actions(runtime)).count("slot.capacity") == 1


async def test_a_nurse_manager_opens_an_extra_slot(as_staff: Staff, client, runtime):
    await as_staff.login("zhao.manager")
    day = (clock.today() + timedelta(days=3)).isoformat()
    fields = {"district": "海淀区", "day": day, "start": "18:00", "end": "20:00", "capacity": "2"}
    wrong = await as_staff.post("/console/schedule/slots", **{**fields, "end": "17:00"})
    assert wrong.status == 400 and "结束时间须晚于开始时间" in await wrong.text()
    added = await as_staff.post("/console/schedule/slots", **fields)
    assert added.status == 303 and "ok=slot_added" in added.headers["Location"]
    page = await (await client.get(added.headers["Location"])).text()
    assert "已开放新时段" in page and "18:00–20:00" in page
    twice = await as_staff.post("/console/schedule/slots", **fields)
    assert twice.status == 400 and "已经有时段了" in await twice.text()
    unknown = await as_staff.post("/console/schedule/slots", **{**fields, "district": "通州区"})
    assert unknown.status == 400
    async with runtime.sessions() as session:
        slots = (await session.execute(select(Slot).where(Slot.district == "海淀区",
                                                          Slot.start == time(18)))).scalars().all()
    assert [(s.capacity, s.booked) for s in slots] == [(2, 0)]
    assert (await _actions(runtime)).count("slot.added") == 1


async def test_hotline_staff_have_no_schedule(as_staff: Staff, client):
    await as_staff.login("li.hotline")
    page = await (await client.get("/console/")).text()
    assert "/console/schedule" not in page and "个人信息申请" in page
    response = await client.get("/console/schedule")
    assert response.status == 403 and "无权访问" in await response.text()
    refused = await as_staff.post("/console/schedule/slots", district="海淀区", day=str(clock.today() + timedelta(days=6)),
                                  start="18:00", end="20:00", capacity="2")
    assert refused.status == 403


async def test_the_statistics_page_downloads_its_range_as_csv(as_staff: Staff, client, runtime):
    await as_staff.login("zhao.manager")
    since, until = clock.today() - timedelta(days=7), clock.today()
    page = await (await client.get(f"/console/stats?since={since}&until={until}")).text()
    links = re.findall(r'href="(/api/reports/[^"]+)"', page)
    assert links == [f"/api/reports/stats.csv?since={since}&amp;until={until}",
                     f"/api/reports/bookings.csv?since={since}&amp;until={until}"]
    for link in links:
        response = await client.get(link.replace("&amp;", "&"))
        assert response.status == 200 and response.content_type == "text/csv"
    actions = await _actions(runtime)
    assert actions.count("stats.exported") == 1 and actions.count("pii.bookings_exported") == 1
