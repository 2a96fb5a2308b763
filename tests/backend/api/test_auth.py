"""Who may call what: 401 without credentials, 403 without the permission or the CSRF token,
and the hospital's read-only token that reads bookings and consents and nothing else."""
from __future__ import annotations

from sqlalchemy import select

from backend.models import Consent
from backend.queries import uploads_of_user

from .helpers import book, console_login, make_token  # noqa: TID252


async def test_no_credentials_get_401_as_json(client):
    response = await client.get("/api/bookings")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert await response.json() == {"error": "authentication required"}
    assert (await client.get("/api/bookings", headers={"Authorization": "Bearer jh_wrong"})).status == 401


async def test_a_token_without_the_permission_gets_403(client, runtime):
    hotline_system = await make_token(runtime, "crm", "transcripts:read")
    response = await client.get("/api/care-workers", headers=hotline_system)
    assert response.status == 403
    assert await response.json() == {"error": "missing permission care_workers:read"}
    assert (await client.get("/api/conversations", headers=hotline_system)).status == 200


async def test_console_sessions_need_the_csrf_token_to_change_things(client, runtime):
    manager = await console_login(runtime, "manager.wu", "nurse_manager")
    assert (await client.get("/api/care-workers", headers=manager.cookie)).status == 200
    worker = {"name": "刘护士", "role": "nurse", "title": "主管护师", "years_of_practice": 8,
              "registration_no": "RN-001", "districts": ["朝阳区"], "phone": "13900000000"}
    refused = await client.post("/api/care-workers", json=worker, headers=manager.cookie)
    assert refused.status == 403 and await refused.json() == {"error": "CSRF token missing or wrong"}
    wrong = await client.post("/api/care-workers", json=worker,
                              headers={**manager.cookie, "X-CSRF-Token": "not-it"})
    assert wrong.status == 403
    created = await client.post("/api/care-workers", json=worker, headers=manager.changing)
    assert created.status == 201
    assert (await created.json())["phone"] == "13900000000"  # staff in the console call nurses
    hotline = await console_login(runtime, "hotline.li", "hotline")
    assert (await client.get("/api/care-workers", headers=hotline.cookie)).status == 403


async def test_the_hospital_token_reads_bookings_and_consents_and_nothing_else(client, runtime, dialogue):
    booking = await book(dialogue, runtime)
    hospital = await make_token(runtime, "his", "bookings:read", "consents:read")
    listed = await client.get("/api/bookings", headers=hospital)
    assert listed.status == 200
    assert [b["number"] for b in (await listed.json())["bookings"]] == [booking.number]
    detail = await (await client.get(f"/api/bookings/{booking.number}", headers=hospital)).json()
    assert detail["present_phone"] == "*******8001"  # tokens see the last 4 digits
    assert detail["patient"]["id_number"] == "**************002X"
    assert detail["patient"]["phone"] == "*******8000"
    assert "11010519491231002X" not in str(detail)
    async with runtime.sessions() as session:
        document_id = (await session.execute(select(Consent.document_id))).scalar_one()
        upload = (await uploads_of_user(session, booking.channel_user_id))[0]
    pdf = await client.get(f"/api/consents/{document_id}.pdf", headers=hospital)
    assert pdf.status == 200 and pdf.content_type == "application/pdf"
    assert (await pdf.read()).startswith(b"%PDF")
    forbidden = [
        ("POST", f"/api/bookings/{booking.number}/confirm"), ("GET", f"/api/uploads/{upload.id}"),
        ("GET", "/api/care-workers"), ("GET", "/api/complaints"), ("GET", "/api/conversations"),
        ("GET", f"/api/conversations/{booking.channel_user_id}"), ("GET", "/api/handoffs"),
        ("GET", "/api/stats"), ("GET", "/api/audit/verify"), ("GET", "/api/alerts"),
        ("POST", f"/api/visits/{booking.number}/arrived"),
        ("GET", f"/api/bookings/{booking.number}/qualified-workers"),
    ]
    for method, path in forbidden:
        response = await client.request(method, path, headers=hospital, json={})
        assert response.status == 403, (method, path, response.status)


async def test_bad_input_is_a_400_that_says_what_is_wrong(client, admin):
    bad_json = await client.post("/api/care-workers", data=b"{not json", headers=admin)
    assert bad_json.status == 400 and "invalid body" in (await bad_json.json())["error"]
    missing = await (await client.post("/api/care-workers", json={"name": "x"}, headers=admin)).json()
    assert {p["field"] for p in missing["problems"]} >= {"role", "title", "registration_no", "districts"}
    date = await client.get("/api/bookings", params={"date": "next tuesday"}, headers=admin)
    assert date.status == 400 and "date" in (await date.json())["error"]
    status = await client.get("/api/bookings", params={"status": "lost"}, headers=admin)
    assert status.status == 400
    district = await client.get("/api/slots", params={"district": "火星区"}, headers=admin)
    assert district.status == 400 and "unknown district 火星区" in (await district.json())["error"]
    nul = await client.post("/api/complaints/TS1/answer", json={"answer": "a\u0000b"}, headers=admin)
    assert nul.status == 400
    assert (await client.get("/api/nothing-here", headers=admin)).status == 404
    assert (await (await client.get("/api/nothing-here")).json()) == {"error": "not found"}
    assert (await client.get("/api/bookings/JH000000000000", headers=admin)).status == 404
    assert (await client.get("/api/conversations/99999", headers=admin)).status == 404
    assert (await client.get("/api/uploads/99999", headers=admin)).status == 404
    assert (await client.get("/api/consents/abc.pdf", headers=admin)).status == 404
    wrong_method = await client.delete("/api/bookings", headers=admin)
    assert wrong_method.status == 405 and "error" in await wrong_method.json()
