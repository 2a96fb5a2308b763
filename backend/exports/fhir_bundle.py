"""A booking as a FHIR R4 Bundle for the hospital's systems (``fhir.resources``, R4B models):
Organization, Patient, RelatedPerson (applicant, person present), QuestionnaireResponse (the
pre-assessment, Barthel items and total with their LOINC codes), Consent with the sealed PDF as a
DocumentReference, Appointment and Provenance.

ID numbers and phones are masked (last four kept, ``meta.security`` MASKED) unless the caller
may see them in full (DOMAIN.md: 个人隐私和信息安全保护); every export writes an access record.
"""
from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, bookings, clock
from backend.config import catalogue, hospital_config, questionnaire
from backend.crypto import mask
from backend.models import Assessment, Booking, CareWorker, Consent, Intake, Patient, Slot
from backend.settings import get_settings

LOINC = "http://loinc.org"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
ID_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
SECURITY = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
BOOKING_SYSTEM = "urn:jiahu:booking"
SERVICE_SYSTEM = "urn:jiahu:service"
CONSENT_SYSTEM = "urn:jiahu:consent"
_NAMESPACE = uuid.UUID("6f0b7a52-3c55-4b8e-9a57-6a6961687521")  # stable ids across exports

# The relation codes the intake records, as HL7 v3 RoleCode (the related person *is* the
# patient's …). Caregivers and friends have no family code; their relation stays as text.
RELATIONSHIPS = {
    "mother": "MTH", "father": "FTH", "spouse": "SPS", "son": "SON", "daughter": "DAU",
    "child": "CHILD", "mother_in_law": "MTHINLAW", "father_in_law": "FTHINLAW",
    "grandmother": "GRMTH", "grandfather": "GRFTH", "son_in_law": "SONINLAW",
    "daughter_in_law": "DAUINLAW", "grandchild": "GRNDCHILD", "maternal_grandmother": "MGRMTH",
    "maternal_grandfather": "MGRFTH", "paternal_grandmother": "PGRMTH",
    "paternal_grandfather": "PGRFTH", "sibling": "SIB", "relative": "FAMMEMB", "friend": "FRND",
}
# Booking states as FHIR Appointment states.
APPOINTMENT_STATUS = {"requested": "pending", "confirmed": "booked", "assigned": "booked",
                      "completed": "fulfilled", "rejected": "cancelled", "cancelled": "cancelled"}
CONSENT_STATUS = {"presented": "proposed", "signed": "active", "sealed": "active",
                  "superseded": "inactive"}


class NotFound(LookupError):
    """No booking with that number."""


@dataclass
class _Entries:
    """The bundle's entries, each under a stable ``urn:uuid:`` derived from what it stands for."""

    items: list[dict[str, Any]]

    def add(self, key: str, resource: dict[str, Any]) -> str:
        url = f"urn:uuid:{uuid.uuid5(_NAMESPACE, key)}"
        self.items.append({"fullUrl": url, "resource": resource})
        return url


def _instant(moment: datetime) -> str:
    return moment.astimezone(clock.zone()).isoformat(timespec="seconds")


def _masked_meta(full: bool) -> dict[str, Any]:
    if full:
        return {}
    return {"meta": {"security": [{"system": SECURITY, "code": "MASKED", "display": "masked"}]}}


def _phone(value: str | None, full: bool) -> list[dict[str, Any]]:
    if not value:
        return []
    return [{"system": "phone", "value": value if full else mask(value, 4), "use": "mobile"}]


def _relationship(code: str | None) -> list[dict[str, Any]]:
    if not code:
        return []
    role = RELATIONSHIPS.get(code)  # the text keeps the intake's own relation code
    return [{"coding": [{"system": ROLE_CODE, "code": role}], "text": code} if role else {"text": code}]


def _organization() -> dict[str, Any]:
    hospital = hospital_config().hospital
    return {"resourceType": "Organization", "active": True, "name": hospital.name_zh,
            "alias": [hospital.name_en],
            "identifier": ([{"system": "urn:jiahu:license", "value": hospital.license_no}]
                           if hospital.license_no else []),
            "telecom": [{"system": "phone", "value": hospital.hotline}],
            "address": [{"text": hospital.address_zh}] if hospital.address_zh else []}


def _patient(patient: Patient, organization: str, full: bool) -> dict[str, Any]:
    identifier = {"type": {"coding": [{"system": ID_TYPE, "code": "NI",
                                       "display": "National unique individual identifier"}],
                           "text": "居民身份证"},
                  "value": patient.id_number if full else mask(patient.id_number, 4)}
    return {"resourceType": "Patient", **_masked_meta(full), "identifier": [identifier],
            "name": [{"text": patient.name}], "telecom": _phone(patient.phone, full),
            "gender": {"F": "female", "M": "male"}.get(patient.sex, "unknown"),
            "birthDate": patient.birth_date.isoformat(),
            "address": [{"use": "home", "text": patient.address or "",
                         "district": patient.district or "",
                         "city": hospital_config().service_area.city_zh, "country": "CN"}],
            "managingOrganization": {"reference": organization}}


def _related_person(name: str, relation: str | None, phone: str | None, patient: str,
                    full: bool) -> dict[str, Any]:
    return {"resourceType": "RelatedPerson", **_masked_meta(full), "active": True,
            "patient": {"reference": patient}, "relationship": _relationship(relation),
            "name": [{"text": name}], "telecom": _phone(phone, full)}


def _questionnaire_response(assessment: Assessment, patient: str, author: str) -> dict[str, Any]:
    """The pre-assessment; the questionnaire it answers is contained, its items coded in LOINC."""
    form = questionnaire()
    answers = assessment.answers or {}
    questions: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for question in form.questions:
        code = [{"system": LOINC, "code": question.loinc}] if question.loinc else []
        questions.append({"linkId": question.id, "text": question.zh, "code": code,
                          "type": "string" if question.free_text else "choice"})
        answer = answers.get(question.id)
        if answer is None:
            continue
        item: dict[str, Any] = {"linkId": question.id, "text": question.zh}
        if isinstance(answer, int) and not question.free_text and 0 <= answer < len(question.options):
            option = question.options[answer]
            coding: dict[str, Any] = {"system": f"urn:jiahu:questionnaire:{form.version}:{question.id}",
                                      "code": str(answer), "display": option.zh}
            if option.points is not None:
                coding["extension"] = [{"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue",
                                        "valueDecimal": option.points}]
            item["answer"] = [{"valueCoding": coding}]
        else:
            item["answer"] = [{"valueString": str(answer)}]
        items.append(item)
    total = "barthel-total"
    questions.append({"linkId": total, "text": "Barthel指数总分", "type": "integer", "readOnly": True,
                      "code": [{"system": LOINC, "code": form.barthel_total_loinc,
                                "display": "Total score Barthel Index"}]})
    items.append({"linkId": total, "text": "Barthel指数总分",
                  "answer": [{"valueInteger": assessment.barthel_score}]})
    contained = {"resourceType": "Questionnaire", "id": "preassessment", "status": "active",
                 "version": assessment.questionnaire_version, "title": "上门护理首诊评估",
                 "item": questions}
    return {"resourceType": "QuestionnaireResponse", "contained": [contained],
            "identifier": {"system": "urn:jiahu:assessment", "value": str(assessment.id)},
            "questionnaire": "#preassessment", "status": "completed",
            "subject": {"reference": patient}, "authored": _instant(assessment.created_at),
            "author": {"reference": author}, "source": {"reference": author}, "item": items}


def _document_reference(consent: Consent, patient: str, organization: str) -> dict[str, Any]:
    """The sealed PDF, named by its SHA-256 (an RFC 6920 ``ni:`` URI) and where to fetch it."""
    digest = base64.urlsafe_b64encode(bytes.fromhex(consent.pdf_sha256 or "")).decode().rstrip("=")
    return {"resourceType": "DocumentReference", "status": "current", "docStatus": "final",
            "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": f"ni:///sha-256;{digest}"},
            "identifier": [{"system": CONSENT_SYSTEM, "value": consent.document_id}],
            "type": {"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}],
                     "text": "知情同意书"},
            "subject": {"reference": patient}, "custodian": {"reference": organization},
            "description": f"SHA-256 {consent.pdf_sha256}",
            "content": [{"attachment": {
                "contentType": "application/pdf", "language": consent.language,
                "url": f"{get_settings().public_url.rstrip('/')}/api/consents/{consent.document_id}.pdf",
                "title": "上门护理服务协议及知情同意书"}}]}


def _consent(consent: Consent, patient: str, performer: str, organization: str,
             document: str | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Consent", "status": CONSENT_STATUS.get(consent.status, "proposed"),
        "identifier": [{"system": CONSENT_SYSTEM, "value": consent.document_id}],
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "treatment"}]},
        "category": [{"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]}],
        "patient": {"reference": patient}, "performer": [{"reference": performer}],
        "organization": [{"reference": organization}],
        "policy": [{"uri": f"urn:jiahu:consent-template:{consent.template_version}"}],
    }
    if consent.signed_at:
        resource["dateTime"] = _instant(consent.signed_at)
    if document:
        resource["sourceReference"] = {"reference": document}
    return resource


def _appointment(booking: Booking, slot: Slot, nurse: CareWorker | None, patient: str,
                 present: str, supporting: list[str]) -> dict[str, Any]:
    zone = clock.zone()
    start = datetime.combine(slot.day, slot.start, tzinfo=zone)
    end = datetime.combine(slot.day, slot.end, tzinfo=zone)
    services = catalogue()
    participants: list[dict[str, Any]] = [
        {"actor": {"reference": patient}, "required": "required", "status": "accepted"},
        {"actor": {"reference": present}, "required": "required", "status": "accepted",
         "type": [{"text": "在场家属或照护人"}]}]
    if nurse is not None:
        participants.append({"actor": {"display": f"{nurse.name}（{nurse.title}）"},
                             "required": "required", "status": "accepted"})
    status = APPOINTMENT_STATUS.get(booking.status, "proposed")
    if status == "booked" and booking.arrived_at and not booking.finished_at:
        status = "arrived"
    return {"resourceType": "Appointment", "status": status,
            "identifier": [{"system": BOOKING_SYSTEM, "value": booking.number}],
            "serviceType": [{"coding": [{"system": SERVICE_SYSTEM, "code": code,
                                         "display": item.name_zh if (item := services.get(code)) else code}]}
                            for code in booking.service_codes],
            "description": "上门护理服务", "start": _instant(start), "end": _instant(end),
            "created": _instant(booking.created_at), "comment": f"{booking.district}",
            "supportingInformation": [{"reference": ref} for ref in supporting],
            "participant": participants}


def _compact(value: Any) -> Any:
    """Without empty strings, lists and objects: FHIR allows no empty elements."""
    if isinstance(value, dict):
        kept = {k: _compact(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ("", [], {}, None)}
    if isinstance(value, list):
        return [v for v in map(_compact, value) if v not in ("", [], {}, None)]
    return value


async def _latest(session: AsyncSession, model: Any, intake_id: int, *conditions: Any) -> Any:
    query = select(model).where(model.intake_id == intake_id, *conditions).order_by(model.id.desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def booking_bundle(session: AsyncSession, number: str, actor: str, *,
                         full_identifiers: bool = False) -> Bundle:
    """The booking ``number`` as a validated FHIR R4 collection Bundle, with an access record."""
    booking = await bookings.by_number(session, number.upper())
    if booking is None:
        raise NotFound(number)
    slot = await session.get_one(Slot, booking.slot_id)
    patient = await session.get_one(Patient, booking.patient_id)
    intake = await session.get_one(Intake, booking.intake_id)
    nurse = await session.get(CareWorker, booking.nurse_id) if booking.nurse_id else None
    assessment = await _latest(session, Assessment, intake.id)
    consent = await _latest(session, Consent, intake.id, Consent.status != "superseded")

    entries = _Entries([])
    organization = entries.add("organization", _organization())
    patient_ref = entries.add(f"patient/{patient.id}", _patient(patient, organization, full_identifiers))
    # When the applicant stays for the visit, one person stands for both, with the phone to reach them.
    same_person = (not intake.applicant_is_patient and booking.present_name == intake.applicant_name
                   and booking.present_relation == intake.applicant_relation)
    if intake.applicant_is_patient:
        applicant = patient_ref
    else:
        applicant = entries.add(f"intake/{intake.id}/applicant", _related_person(
            intake.applicant_name or "", intake.applicant_relation,
            booking.present_phone if same_person else None, patient_ref, full_identifiers))
    present = applicant if same_person else entries.add(f"booking/{booking.id}/present", _related_person(
        booking.present_name, booking.present_relation, booking.present_phone, patient_ref, full_identifiers))
    supporting: list[str] = []
    if assessment is not None:
        supporting.append(entries.add(f"assessment/{assessment.id}",
                                      _questionnaire_response(assessment, patient_ref, applicant)))
    if consent is not None:
        document = (entries.add(f"consent/{consent.id}/pdf",
                                _document_reference(consent, patient_ref, organization))
                    if consent.pdf_sha256 else None)
        supporting.append(entries.add(f"consent/{consent.id}",
                                      _consent(consent, patient_ref, applicant, organization, document)))
    appointment = entries.add(f"booking/{booking.id}", _appointment(
        booking, slot, nurse, patient_ref, present, supporting))
    entries.add(f"booking/{booking.id}/provenance", {
        "resourceType": "Provenance",
        "target": [{"reference": ref} for ref in (appointment, *supporting)],
        "recorded": _instant(booking.created_at), "occurredDateTime": _instant(booking.created_at),
        "policy": [f"urn:jiahu:privacy-notice:{intake.privacy_notice_version}"],
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                 "code": "CREATE"}], "text": "线上申请（对话）"},
        "agent": [
            {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                  "code": "author"}]}, "who": {"reference": applicant}},
            {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                  "code": "custodian"}]}, "who": {"reference": organization}}],
    })
    bundle = Bundle.model_validate(_compact({
        "resourceType": "Bundle", "type": "collection", "timestamp": _instant(clock.now()),
        "identifier": {"system": BOOKING_SYSTEM, "value": booking.number}, "entry": entries.items}))
    await audit.record(session, actor, "pii.fhir_exported", f"booking:{booking.id}",
                       {"number": booking.number, "full_identifiers": full_identifiers})
    return bundle


def bundle_json(bundle: Bundle) -> str:
    """The bundle as FHIR JSON (no empty elements)."""
    return bundle.model_dump_json(exclude_none=True)
