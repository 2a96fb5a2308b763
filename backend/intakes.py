"""Records of an intake: the application, the patient, uploads, assessment and consent."""
from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock
from backend.assessment import AssessmentResult
from backend.crypto import current_vault
from backend.identity import ResidentId
from backend.models import Assessment, Consent, Intake, Patient, Upload
from backend.storage import store_encrypted


async def open_intake(session: AsyncSession, channel_user_id: int, privacy_version: str) -> Intake:
    """Start an application once the applicant has consented to the privacy notice."""
    intake = Intake(channel_user_id=channel_user_id, privacy_notice_version=privacy_version,
                    privacy_consented_at=clock.now())
    session.add(intake)
    await session.flush()
    return intake


async def get_intake(session: AsyncSession, intake_id: int) -> Intake:
    return await session.get_one(Intake, intake_id)


async def update_intake(session: AsyncSession, intake_id: int, **fields: Any) -> Intake:
    intake = await get_intake(session, intake_id)
    for name, value in fields.items():
        setattr(intake, name, value)
    await session.flush()
    return intake


async def save_patient(session: AsyncSession, intake_id: int, *, name: str, resident_id: ResidentId,
                       phone: str | None, address: str | None, district: str | None) -> Patient:
    """Create or update the intake's patient (the same ID number is the same person)."""
    vault = current_vault()
    index = vault.blind_index(resident_id.number)
    patient = (await session.execute(select(Patient).where(Patient.id_number_index == index))).scalars().first()
    if patient is None:
        patient = Patient(id_number=resident_id.number, id_number_index=index,
                          birth_date=resident_id.birth_date, sex=resident_id.sex, name=name)
        session.add(patient)
    patient.name = name
    patient.phone = phone
    patient.phone_index = vault.blind_index(phone) if phone else None
    patient.address = address
    patient.district = district
    await session.flush()
    await update_intake(session, intake_id, patient_id=patient.id)
    return patient


async def save_upload(session: AsyncSession, *, channel_user_id: int, intake_id: int | None, kind: str,
                      data: bytes, content_type: str, filename: str | None) -> Upload:
    """Store an uploaded file encrypted on disk and record it."""
    path, digest = await store_encrypted(f"uploads/{clock.today():%Y/%m}", data)
    upload = Upload(channel_user_id=channel_user_id, intake_id=intake_id, kind=kind,
                    filename=filename, content_type=content_type, size=len(data), sha256=digest,
                    storage_path=path)
    session.add(upload)
    await session.flush()
    return upload


async def uploads_of(session: AsyncSession, intake_id: int) -> list[Upload]:
    query = select(Upload).where(Upload.intake_id == intake_id).order_by(Upload.id)
    return list((await session.execute(query)).scalars())


async def save_assessment(session: AsyncSession, intake_id: int, version: str, answers: dict[str, Any],
                          result: AssessmentResult) -> Assessment:
    record = Assessment(intake_id=intake_id, questionnaire_version=version, answers=answers,
                        barthel_score=result.barthel_score, barthel_grade=result.barthel_grade,
                        flags=result.flags, eligible=result.eligible)
    session.add(record)
    await session.flush()
    return record


async def present_consent(session: AsyncSession, intake_id: int, *, template_version: str, language: str,
                          summary: str, channel: str, channel_external_id: str) -> Consent:
    """Record that the consent summary was shown to the family (audit event 'sent')."""
    now = clock.now().isoformat()
    consent = Consent(document_id=uuid.uuid4().hex, intake_id=intake_id,
                      template_version=template_version, language=language,
                      summary_sha256=hashlib.sha256(summary.encode()).hexdigest(),
                      channel=channel, channel_external_id=channel_external_id,
                      events=[{"event": "created", "at": now}, {"event": "sent", "at": now}])
    session.add(consent)
    await session.flush()
    return consent


async def sign_consent(session: AsyncSession, consent_id: int, signer_name: str) -> Consent:
    consent = await session.get_one(Consent, consent_id)
    now = clock.now()
    consent.signer_name = signer_name
    consent.signed_at = now
    consent.status = "signed"
    consent.events = [*consent.events, {"event": "signed", "at": now.isoformat(), "by": signer_name}]
    await session.flush()
    return consent
