"""The console over HTTP: login and its refusals, sessions, roles, CSRF and recorded access."""
from __future__ import annotations

import re

from sqlalchemy import select
from yarl import URL

from backend.models import AuditEntry
from tests.backend.console.conftest import PASSWORD, Staff, login_form


async def _actions(runtime) -> list[str]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())


async def test_pages_need_a_session(client):
    response = await client.get("/console/bookings?status=requested", allow_redirects=False)
    assert response.status == 303
    location = URL(response.headers["Location"])
    assert location.path == "/console/login" and location.query["next"] == "/console/bookings?status=requested"
    login = await client.get(response.headers["Location"])
    assert "用户名" in await login.text() and "密码" in await login.text()
    refused = await client.post("/console/bookings/1", data={"action": "confirm"})
    assert refused.status == 401


async def test_login_refuses_wrong_passwords_and_slows_down(client, runtime, clock):
    clock.ticking = False  # the lock-out lasts a second of the service's time, however slow the machine
    for _ in range(3):
        response = await client.post("/console/login", data={**await login_form(client), "username": "li.hotline", "password": "nope"})
        assert response.status == 401 and "用户名或密码错误" in await response.text()
    unknown = await client.post("/console/login", data={**await login_form(client), "username": "nobody", "password": "nope"})
    assert "用户名或密码错误" in await unknown.text()
    slowed = await client.post("/console/login", data={**await login_form(client), "username": "li.hotline", "password": PASSWORD})
    assert slowed.status == 429
    assert re.search(r"请 \d+ 秒后再试", await slowed.text())
    assert "staff.login_failed" in await _actions(runtime)


async def test_login_goes_to_the_page_asked_for_and_logout_ends_the_session(as_staff: Staff, client):
    response = await client.post("/console/login", data={**await login_form(client), "username": "zhao.manager", "password": PASSWORD,
                                                         "next": "/console/stats"}, allow_redirects=False)
    assert response.headers["Location"] == "/console/stats"
    evil = await client.post("/console/login", data={**await login_form(client), "username": "zhao.manager", "password": PASSWORD,
                                                     "next": "//evil.example/"}, allow_redirects=False)
    assert evil.headers["Location"] == "/console/"
    await as_staff.login("zhao.manager")
    page = await client.get("/console/")
    assert "赵护士长" in await page.text() and page.headers["Cache-Control"] == "no-store"
    out = await as_staff.post("/console/logout")
    assert out.status == 303
    again = await client.get("/console/", allow_redirects=False)
    assert again.status == 303 and again.headers["Location"].startswith("/console/login")


async def test_a_hotline_nurse_sees_only_her_pages(as_staff: Staff, client):
    await as_staff.login("li.hotline")
    page = await (await client.get("/console/")).text()
    assert "对话记录" in page and "投诉建议" in page
    assert "/console/stats" not in page and "/console/workers" not in page
    for path in ("/console/stats", "/console/workers"):
        response = await client.get(path)
        assert response.status == 403 and "无权访问" in await response.text()
    refused = await as_staff.post("/console/workers", name="x", role="nurse", title="护师", years="6",
                                  registration_no="R", districts="朝阳区")
    assert refused.status == 403


async def test_forms_without_the_csrf_token_are_refused(as_staff: Staff, client, runtime):
    await as_staff.login("zhao.manager")
    fields = {"name": "刘芳", "role": "nurse", "title": "主管护师", "years": "8", "registration_no": "RN-1",
              "districts": "朝阳区"}
    for csrf in (None, "forged"):
        data = {**fields, **({"csrf": csrf} if csrf else {})}
        response = await client.post("/console/workers", data=data, allow_redirects=False)
        assert response.status == 403
    assert "care_worker.created" not in await _actions(runtime)
    added = await as_staff.post("/console/workers", **fields)
    assert added.status == 303
    page = await (await client.get("/console/workers")).text()
    assert "刘芳" in page and "符合" in page
    assert "care_worker.created" in await _actions(runtime)


async def test_a_worker_below_the_rules_is_listed_with_reasons(as_staff: Staff, client):
    await as_staff.login("admin")
    await as_staff.post("/console/workers", name="小王", role="nurse", title="护士", years="2",
                        registration_no="RN-2", districts="海淀区")
    page = await (await client.get("/console/workers")).text()
    assert "护士需至少 5 年执业经历（现为 2 年）" in page and "职称“护士”低于护师" in page


async def test_reading_a_conversation_uploads_and_pdf_is_recorded(as_staff: Staff, client, dialogue, runtime):
    await dialogue.intake(until="records_done")
    await as_staff.login("li.hotline")
    found = await (await client.get("/console/conversations", params={"q": "王秀英"})).text()
    user_id = re.search(r'/console/conversations/(\d+)"', found).group(1)
    page = await (await client.get(f"/console/conversations/{user_id}")).text()
    assert "王秀英" in page and "<dd>110105********002X</dd>" in page  # the panel masks it
    upload_id = re.search(r'<img src="/console/uploads/(\d+)"', page).group(1)
    image = await client.get(f"/console/uploads/{upload_id}")
    assert image.status == 200 and image.content_type == "image/png"
    assert (await image.read()).startswith(b"\x89PNG")
    pdf = await client.get(f"/console/conversations/{user_id}/transcript.pdf")
    assert pdf.status == 200 and pdf.content_type == "application/pdf"
    assert (await pdf.read()).startswith(b"%PDF")
    actions = await _actions(runtime)
    for action in ("pii.conversations_listed", "pii.transcript_viewed", "pii.patient_viewed", "pii.upload_view",
                   "pii.transcript_exported"):
        assert action in actions


async def test_complaints_are_listed_with_their_age(as_staff: Staff, client, dialogue):
    await dialogue.play([("投诉", "发生了什么"), ("电话一直打不通", "和哪次预约有关"),
                         ("与预约无关", "怎么回复您"), ("在这里回复我", "编号：TS")])
    await as_staff.login("li.hotline")
    listing = await client.get("/console/complaints")
    text = await listing.text()
    assert listing.status == 200, text
    assert "电话一直打不通" in text and "0 小时" in text and "待处理" in text
    complaint_id = re.search(r'/console/complaints/(\d+)"', text).group(1)
    page = await client.get(f"/console/complaints/{complaint_id}")
    assert page.status == 200, await page.text()


async def test_a_family_that_mentions_an_emergency_comes_first_in_the_queue(as_staff: Staff, client,
                                                                            runtime):
    from tests.conftest import Dialogue

    waiting = Dialogue(runtime.engine, user_id="family-waiting")
    await waiting.play([("你好", "预约上门护理"), ("转人工", "已为您转接人工客服")])
    urgent = Dialogue(runtime.engine, user_id="family-urgent")
    await urgent.play([("你好", "预约上门护理"), ("预约上门护理", "个人信息处理告知"),
                       ("我妈刚才突然胸口疼得厉害，满头大汗", "请立即拨打120")])
    await as_staff.login("li.hotline")
    page = await (await client.get("/console/")).text()
    queue = page[page.index('id="queue"'):]
    assert "急症提醒" in queue
    assert queue.index("family-urgent") < queue.index("family-waiting")


async def test_a_session_ends_at_logout_and_expires_for_whoever_holds_the_cookie(as_staff: Staff, client,
                                                                                 clock):
    from datetime import timedelta

    from backend.web.auth import COOKIE, SESSION_SECONDS

    await as_staff.login("zhao.manager")
    cookie = {"Cookie": f"{COOKIE}={client.session.cookie_jar.filter_cookies(client.make_url('/'))[COOKIE].value}"}
    assert (await as_staff.post("/console/logout")).status == 303
    client.session.cookie_jar.clear()
    copied = await client.get("/console/", headers=cookie, allow_redirects=False)
    assert copied.status == 303 and copied.headers["Location"].startswith("/console/login")
    assert (await client.get("/api/bookings", headers=cookie)).status == 401

    await as_staff.login("zhao.manager")
    clock.advance(timedelta(seconds=SESSION_SECONDS + 1))
    expired = await client.get("/console/", allow_redirects=False)
    assert expired.status == 303


async def test_the_login_form_needs_its_csrf_token(client):
    for form in ({}, {"login_csrf": "forged"}):
        response = await client.post("/console/login", data={
            "username": "zhao.manager", "password": PASSWORD, **form}, allow_redirects=False)
        assert response.status == 403 and "页面已过期" in await response.text()
    client.session.cookie_jar.clear()  # a token without the cookie it was made for
    token = await login_form(client)
    client.session.cookie_jar.clear()
    response = await client.post("/console/login", data={
        "username": "zhao.manager", "password": PASSWORD, **token}, allow_redirects=False)
    assert response.status == 403


async def test_a_nurse_manager_changes_and_deactivates_a_care_worker(as_staff: Staff, client, runtime):
    await as_staff.login("zhao.manager")
    fields = {"name": "小王", "role": "nurse", "title": "护士", "years": "2", "registration_no": "RN-2",
              "districts": "海淀区"}
    await as_staff.post("/console/workers", **fields)
    await as_staff.post("/console/workers", **{**fields, "name": "刘芳", "registration_no": "RN-3"})
    listing = await (await client.get("/console/workers")).text()
    worker_id = re.search(r'href="/console/workers/(\d+)">小王', listing).group(1)  # type: ignore[union-attr]
    form = await (await client.get(f"/console/workers/{worker_id}")).text()
    assert 'value="RN-2"' in form and "停用" in form
    taken = await as_staff.post(f"/console/workers/{worker_id}", **{**fields, "registration_no": "RN-3"})
    assert taken.status == 400 and "这个执业证书编号已经登记过了" in await taken.text()
    changed = await as_staff.post(f"/console/workers/{worker_id}", **{**fields, "title": "护师", "years": "6"})
    assert changed.status == 303 and "ok=worker_changed" in changed.headers["Location"]
    listing = await (await client.get("/console/workers")).text()
    row = listing[listing.index(">小王<"):].split("</tr>")[0]
    assert "6 年" in row and "符合" in row
    off = await as_staff.post(f"/console/workers/{worker_id}/active", active="no")
    assert "ok=worker_deactivated" in off.headers["Location"]
    listing = await (await client.get("/console/workers")).text()
    assert "已停用" in listing[listing.index(">小王<"):].split("</tr>")[0]
    assert (await as_staff.post("/console/workers/999/active", active="yes")).status == 404
    assert "care_worker.deactivated" in await _actions(runtime)
