"""Personal-data requests (PIPL): a family may see or delete their data. Deletion keeps only what
medical-record rules oblige the hospital to keep, marked as such (DOMAIN.md: privacy)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, clock, notify
from backend.config import hospital_config
from backend.crypto import mask
from backend.models import (
    Assessment,
    Booking,
    Consent,
    ConversationState,
    DataRequest,
    Intake,
    Patient,
    TranscriptEntry,
    Upload,
)
from backend.settings import get_settings


class AlreadyAnswered(ValueError):
    """The request was answered already."""


RETAINED = "medical record of a booked home visit (kept under medical-record rules)"
ERASED = "[已删除]"


async def open_request(session: AsyncSession, channel_user_id: int, kind: str) -> DataRequest:
    """Record a request; it must be answered within the configured number of days."""
    if kind not in ("access", "delete"):
        raise ValueError("kind must be access or delete")
    days = hospital_config().data_requests.answer_within_days
    request = DataRequest(channel_user_id=channel_user_id, kind=kind, status="open",
                          due_at=clock.now() + timedelta(days=days))
    session.add(request)
    await session.flush()
    await audit.record(session, f"family:{channel_user_id}", f"data_request.{kind}", f"data_request:{request.id}")
    return request


@dataclass
class DataSummary:
    """What the service holds about a family's conversation, masked as a family may see it."""

    patients: list[str] = field(default_factory=list)
    uploads: int = 0
    bookings: list[str] = field(default_factory=list)
    messages: int = 0


async def summary(session: AsyncSession, channel_user_id: int) -> DataSummary:
    result = DataSummary()
    rows = (await session.execute(select(Patient).join(Intake, Intake.patient_id == Patient.id).where(
        Intake.channel_user_id == channel_user_id))).scalars().unique()
    for patient in rows:
        result.patients.append(f"{patient.name}｜身份证 {mask(patient.id_number, 4)}｜电话 {mask(patient.phone or '', 4)}"
                               f"｜{patient.district or ''}")
    result.uploads = len((await session.execute(select(Upload.id).where(
        Upload.channel_user_id == channel_user_id))).all())
    result.bookings = list((await session.execute(select(Booking.number).where(
        Booking.channel_user_id == channel_user_id))).scalars())
    result.messages = len((await session.execute(select(TranscriptEntry.id).where(
        TranscriptEntry.channel_user_id == channel_user_id))).all())
    return result


@dataclass
class Erasure:
    deleted_uploads: int = 0
    deleted_patients: int = 0
    retained_intakes: list[int] = field(default_factory=list)


async def erase(session: AsyncSession, request: DataRequest, actor: str) -> Erasure:
    """Delete a family's personal data except medical records of booked visits, which are kept
    and marked; the request is answered and the family told."""
    user_id = request.channel_user_id
    report = Erasure()
    intakes = list((await session.execute(select(Intake).where(Intake.channel_user_id == user_id))).scalars())
    for intake in intakes:
        booked = (await session.execute(select(Booking.id).where(Booking.intake_id == intake.id))).first()
        if booked:
            intake.retained_reason = RETAINED
            report.retained_intakes.append(intake.id)
            continue
        report.deleted_uploads += await _delete_uploads(session, Upload.intake_id == intake.id)
        await session.execute(delete(Assessment).where(Assessment.intake_id == intake.id))
        await session.execute(delete(Consent).where(Consent.intake_id == intake.id))
        patient_id = intake.patient_id
        intake.patient_id = None
        intake.applicant_name = intake.present_name = intake.present_phone = None
        intake.status = "erased"
        await session.flush()
        if patient_id is not None:
            still_used = (await session.execute(select(Intake.id).where(Intake.patient_id == patient_id))).first()
            if not still_used and not (await session.execute(
                    select(Booking.id).where(Booking.patient_id == patient_id))).first():
                await session.execute(delete(Patient).where(Patient.id == patient_id))
                report.deleted_patients += 1
    report.deleted_uploads += await _delete_uploads(
        session, (Upload.channel_user_id == user_id) & Upload.intake_id.is_(None))
    if not report.retained_intakes:
        await session.execute(update(TranscriptEntry).where(TranscriptEntry.channel_user_id == user_id)
                              .values(text=ERASED, payload=None))
    state = await session.get(ConversationState, user_id)
    if state is not None:
        state.data, state.flow, state.step = {}, None, None
    request.status, request.answered_by, request.answered_at = "done", actor, clock.now()
    request.answer = (f"deleted {report.deleted_uploads} files and {report.deleted_patients} patient records; "
                      f"kept {len(report.retained_intakes)} booked intakes as medical records")
    await audit.record(session, actor, "data_request.erased", f"data_request:{request.id}",
                       {"uploads": report.deleted_uploads, "patients": report.deleted_patients,
                        "retained": report.retained_intakes})
    await notify.notify_family(session, user_id, "data_request.done", message="notify.data_erased",
                               values={"kept": len(report.retained_intakes)})
    return report


async def _delete_uploads(session: AsyncSession, which: ColumnElement[bool]) -> int:
    """Remove uploaded files from disk and their rows; messages that carried them keep no link."""
    uploads = list((await session.execute(select(Upload).where(which))).scalars())
    if not uploads:
        return 0
    ids = [upload.id for upload in uploads]
    await session.execute(update(TranscriptEntry).where(TranscriptEntry.upload_id.in_(ids)).values(upload_id=None))
    data_root = get_settings().data_dir / "files"
    for upload in uploads:
        (data_root / upload.storage_path).unlink(missing_ok=True)
        await session.delete(upload)
    await session.flush()
    return len(uploads)
