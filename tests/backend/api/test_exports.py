"""GET /api/bookings/{number}/fhir and the CSV reports: permissions, masking, what is served."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from fhir.resources.R4B.bundle import Bundle

from .helpers import book, console_login, make_token  # noqa: TID252


async def test_the_fhir_bundle_of_a_booking(runtime, dialogue, client):
    booking = await book(dialogue, runtime)
    reader = await make_token(runtime, "his", "bookings:read")
    response = await client.get(f"/api/bookings/{booking.number}/fhir", headers=reader)
    assert response.status == 200 and response.content_type == "application/fhir+json"
    assert response.headers["Cache-Control"] == "no-store"
    bundle = Bundle.model_validate_json(await response.text())
    kinds = {e.resource.get_resource_type() for e in bundle.entry}
    assert {"Patient", "QuestionnaireResponse", "Consent", "Appointment", "Provenance"} <= kinds
    assert "11010519491231002X" not in await response.text()

    full = f"/api/bookings/{booking.number}/fhir?identifiers=full"
    refused = await client.get(full, headers=reader)
    assert refused.status == 403 and "identifiers:read" in (await refused.json())["error"]
    trusted = await make_token(runtime, "his-full", "bookings:read", "identifiers:read")
    assert "11010519491231002X" in await (await client.get(full, headers=trusted)).text()
    assert (await client.get("/api/bookings/JH000000000000/fhir", headers=reader)).status == 404
    other = await make_token(runtime, "nurse-app", "visits:write")
    assert (await client.get(f"/api/bookings/{booking.number}/fhir", headers=other)).status == 403


async def test_the_csv_reports(runtime, dialogue, client, today):
    booking = await book(dialogue, runtime)
    manager = await console_login(runtime, "wang", "nurse_manager")
    since, until = today.isoformat(), (today + timedelta(days=30)).isoformat()
    response = await client.get(f"/api/reports/bookings.csv?since={since}&until={until}",
                                headers=manager.cookie)
    assert response.status == 200 and response.content_type == "text/csv"
    assert f'filename="bookings-{since}-{until}.csv"' in response.headers["Content-Disposition"]
    [row] = list(csv.DictReader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert row["booking_number"] == booking.number and row["patient_name"] == "王**"
    full = await client.get(f"/api/reports/bookings.csv?since={since}&until={until}&identifiers=full",
                            headers=manager.cookie)
    assert full.status == 403, "a nurse manager sees reports masked"
    backwards = await client.get(f"/api/reports/bookings.csv?since={until}&until={since}",
                                 headers=manager.cookie)
    assert backwards.status == 400

    stats = await client.get(f"/api/reports/stats.csv?since={since}&until={until}", headers=manager.cookie)
    assert stats.status == 200 and "bookings_per_district,朝阳区,,1" in (await stats.read()).decode("utf-8-sig")
    hotline = await console_login(runtime, "li", "hotline")
    assert (await client.get("/api/reports/stats.csv", headers=hotline.cookie)).status == 403
