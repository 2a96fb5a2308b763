"""Care workers changed and deactivated through the API, checked as when they are added."""
from __future__ import annotations

from sqlalchemy import select

from backend.models import AuditEntry

NURSE = {"name": "刘芳", "role": "nurse", "title": "护师", "years_of_practice": 6, "registration_no": "RN-1",
         "districts": ["朝阳区"], "phone": "13900000001"}


async def test_a_care_worker_is_changed_deactivated_and_reactivated(client, admin, runtime):
    worker = await (await client.post("/api/care-workers", json=NURSE, headers=admin)).json()
    path = f"/api/care-workers/{worker['id']}"
    promoted = await client.patch(path, json={"title": "主管护师", "districts": ["朝阳区", "东城区", "朝阳区"]},
                                  headers=admin)
    assert promoted.status == 200
    body = await promoted.json()
    assert (body["title"], body["districts"], body["name"], body["years_of_practice"]) == (
        "主管护师", ["朝阳区", "东城区"], "刘芳", 6)
    off = await (await client.patch(path, json={"active": False}, headers=admin)).json()
    assert off["active"] is False
    listed = await (await client.get("/api/care-workers", headers=admin)).json()
    assert [w["active"] for w in listed["care_workers"]] == [False]
    assert (await (await client.patch(path, json={"active": True}, headers=admin)).json())["active"] is True
    async with runtime.sessions() as session:
        actions = list((await session.execute(select(AuditEntry.action).where(
            AuditEntry.action.like("care_worker.%")).order_by(AuditEntry.id))).scalars())
    assert actions == ["care_worker.created", "care_worker.updated", "care_worker.deactivated",
                       "care_worker.activated"]


async def test_changes_are_refused_as_additions_are(client, admin):
    first = await (await client.post("/api/care-workers", json=NURSE, headers=admin)).json()
    await client.post("/api/care-workers", json={**NURSE, "registration_no": "RN-2", "phone": None}, headers=admin)
    path = f"/api/care-workers/{first['id']}"
    taken = await client.patch(path, json={"registration_no": "RN-2"}, headers=admin)
    assert taken.status == 409 and "RN-2 is already registered" in (await taken.json())["error"]
    far = await client.patch(path, json={"districts": ["浦东新区"]}, headers=admin)
    assert far.status == 400 and "districts not served: 浦东新区" in (await far.json())["error"]
    bad_phone = await client.patch(path, json={"phone": "12345"}, headers=admin)
    assert bad_phone.status == 400 and "phone" in (await bad_phone.json())["error"]
    assert (await client.patch(path, json={"years_of_practice": -1}, headers=admin)).status == 400
    assert (await client.patch("/api/care-workers/999", json={"active": False}, headers=admin)).status == 404
    unchanged = await (await client.get("/api/care-workers", headers=admin)).json()
    assert unchanged["care_workers"][0]["registration_no"] == "RN-1"
