"""The FHIR export of a booking made through the conversation validates with fhir.resources and
carries the patient, the Barthel answers and total, the consent and the appointment."""
from __future__ import annotations

import base64
import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from backend import bookings
from backend.config import questionnaire
from backend.db import transaction
from backend.exports.fhir_bundle import NotFound, booking_bundle, bundle_json
from backend.models import AuditEntry, Consent


def resources(bundle: Bundle) -> dict[str, list]:
    found: dict[str, list] = {}
    for entry in bundle.entry:
        found.setdefault(entry.resource.get_resource_type(), []).append(entry.resource)
    return found


async def test_the_bundle_of_a_real_booking(booking_number, runtime, today):
    number = booking_number
    async with transaction(runtime.sessions) as session:
        bundle = await booking_bundle(session, number, "cli")
        consent = (await session.execute(select(Consent))).scalar_one()
        booking = await bookings.by_number(session, number)
    text = bundle_json(bundle)
    again = Bundle.model_validate_json(text)  # what a hospital receives parses and validates
    assert again.type == "collection" and again.identifier.value == number
    found = resources(again)
    assert set(found) == {"Organization", "Patient", "RelatedPerson", "QuestionnaireResponse", "Consent",
                          "DocumentReference", "Appointment", "Provenance"}

    [patient] = found["Patient"]
    assert patient.name[0].text == "王秀英" and patient.gender == "female"
    assert patient.birthDate.isoformat() == "1949-12-31"
    assert patient.identifier[0].value.endswith("002X") and "11010519" not in text
    assert patient.telecom[0].value.endswith("8000") and "13800138000" not in text
    assert patient.meta.security[0].code == "MASKED"
    [applicant] = found["RelatedPerson"]  # the applicant stays for the visit: one person
    assert applicant.name[0].text == "张丽" and applicant.relationship[0].coding[0].code == "DAU"

    [response] = found["QuestionnaireResponse"]
    form = questionnaire()
    codes = {item.linkId: item.code[0].code for item in response.contained[0].item if item.code}
    barthel = [q for q in form.questions if q.instrument == "barthel"]
    assert {q.id: q.loinc for q in barthel} == {k: v for k, v in codes.items() if k != "barthel-total"}
    assert codes["barthel-total"] == "96761-2"
    answers = {item.linkId: item.answer[0] for item in response.item}
    points = [answers[q.id].valueCoding.extension[0].valueDecimal for q in barthel]
    assert answers["barthel-total"].valueInteger == sum(points) == 65
    assert answers["allergies"].valueString == "青霉素过敏"

    [consent_out] = found["Consent"]
    assert consent_out.status == "active" and consent_out.identifier[0].value == consent.document_id
    [document] = found["DocumentReference"]
    digest = document.masterIdentifier.value.removeprefix("ni:///sha-256;")
    assert base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4)).hex() == consent.pdf_sha256
    assert document.content[0].attachment.url.endswith(f"/api/consents/{consent.document_id}.pdf")

    [appointment] = found["Appointment"]
    assert appointment.identifier[0].value == number and appointment.status == "pending"
    assert appointment.start.date() > today and appointment.start.utcoffset().total_seconds() == 8 * 3600
    assert [c.coding[0].code for c in appointment.serviceType] == booking.service_codes
    [provenance] = found["Provenance"]
    assert len(provenance.target) == 3

    async with runtime.sessions() as session:
        [entry] = (await session.execute(select(AuditEntry).where(
            AuditEntry.action == "pii.fhir_exported"))).scalars()
    assert entry.actor == "cli" and entry.details == {"number": number, "full_identifiers": False}


async def test_full_identifiers_only_when_asked(booking_number, runtime):
    number = booking_number
    async with transaction(runtime.sessions) as session:
        bundle = await booking_bundle(session, number.lower(), "admin", full_identifiers=True)
    [patient] = resources(bundle)["Patient"]
    assert patient.identifier[0].value == "11010519491231002X" and patient.meta is None
    assert "13800138001" in json.dumps(json.loads(bundle_json(bundle)))


async def test_an_unknown_booking(runtime):
    async with transaction(runtime.sessions) as session:
        with pytest.raises(NotFound):
            await booking_bundle(session, "JH000000000000", "cli")

