"""Read-side queries for staff: find conversations, read them, list work, count work.

Every function that returns personal data takes the ``actor`` and writes an access record to the
audit log (DOMAIN.md: shown to staff only with an access record).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, clock
from backend.assessment import AssessmentCard, assessment_card
from backend.config import hospital_config, questionnaire
from backend.conversations import RED_FLAG
from backend.crypto import current_vault
from backend.models import (
    ID_TAIL,
    Assessment,
    Booking,
    CareWorker,
    ChannelUser,
    Complaint,
    Consent,
    ConversationState,
    HandoffRequest,
    Intake,
    Patient,
    Slot,
    TranscriptEntry,
    Upload,
    id_tail_index,
)
from backend.storage import read_decrypted


@dataclass(frozen=True)
class ConversationRow:
    user: ChannelUser
    last_message_at: datetime | None
    patient_names: list[str]
    booking_numbers: list[str]
    taken_over_by: str | None
    waiting_for_human: bool


def _matching_users(text: str) -> Select[int]:
    """Channel users whose applicant, patient or person present is named ``text``, whose phones
    or ID number (whole, or its last four) are ``text`` — by blind index, never decrypting —
    or whose booking number or channel account it is."""
    index = current_vault().blind_index(text)
    tail = id_tail_index(text) if len(text) == ID_TAIL else None
    patient_match = [Patient.name.contains(text), Patient.phone_index == index, Patient.id_number_index == index]
    if tail:
        patient_match.append(Patient.id_tail_index == tail)
    by_patient = (select(Intake.channel_user_id).join(Patient, Patient.id == Intake.patient_id)
                  .where(or_(*patient_match)))
    by_intake = select(Intake.channel_user_id).where(or_(
        Intake.applicant_name.contains(text), Intake.present_name.contains(text),
        Intake.present_phone_index == index))
    by_booking = select(Booking.channel_user_id).where(or_(
        Booking.number == text.upper(), Booking.present_phone_index == index, Booking.present_name.contains(text)))
    by_user = select(ChannelUser.id).where(or_(ChannelUser.external_id == text,
                                               ChannelUser.display_name.contains(text)))
    return (select(ChannelUser.id).where(or_(ChannelUser.id.in_(by_patient), ChannelUser.id.in_(by_intake),
                                             ChannelUser.id.in_(by_booking), ChannelUser.id.in_(by_user))))


async def search_conversations(session: AsyncSession, *, q: str = "", channel: str | None = None,
                               day: date | None = None, limit: int = 50) -> list[ConversationRow]:
    """Conversations by applicant, patient or present person's name, any phone, ID number or its
    last four characters, booking number, channel and date."""
    users = select(ChannelUser.id)
    text = q.strip()
    if text:
        users = users.where(ChannelUser.id.in_(_matching_users(text)))
    if channel:
        users = users.where(ChannelUser.channel == channel)
    if day:
        tz = ZoneInfo(hospital_config().schedule.timezone)
        start = datetime.combine(day, time.min, tzinfo=tz)
        users = users.where(ChannelUser.id.in_(select(TranscriptEntry.channel_user_id).where(
            TranscriptEntry.created_at >= start, TranscriptEntry.created_at < start + timedelta(days=1))))
    last = (select(TranscriptEntry.channel_user_id, func.max(TranscriptEntry.created_at).label("last"))
            .group_by(TranscriptEntry.channel_user_id).subquery())
    query = (select(ChannelUser, last.c.last).outerjoin(last, last.c.channel_user_id == ChannelUser.id)
             .where(ChannelUser.id.in_(users)).order_by(last.c.last.desc().nulls_last()).limit(limit))
    rows = (await session.execute(query)).all()
    ids = [user.id for user, _ in rows]
    names: dict[int, list[str]] = {}
    for user_id, name in (await session.execute(select(Intake.channel_user_id, Patient.name).join(
            Patient, Patient.id == Intake.patient_id).where(Intake.channel_user_id.in_(ids)))).all():
        names.setdefault(user_id, []).append(name)
    numbers: dict[int, list[str]] = {}
    for user_id, number in (await session.execute(select(Booking.channel_user_id, Booking.number)
                                                  .where(Booking.channel_user_id.in_(ids)))).all():
        numbers.setdefault(user_id, []).append(number)
    states = dict((await session.execute(select(ConversationState.channel_user_id, ConversationState.taken_over_by)
                                          .where(ConversationState.channel_user_id.in_(ids)))).all())
    waiting = set((await session.execute(select(HandoffRequest.channel_user_id).where(
        HandoffRequest.channel_user_id.in_(ids), HandoffRequest.status == "waiting"))).scalars())
    return [ConversationRow(user, at, sorted(set(names.get(user.id, []))), numbers.get(user.id, []),
                            states.get(user.id), user.id in waiting) for user, at in rows]


async def handoff_queue(session: AsyncSession) -> list[tuple[HandoffRequest, ChannelUser]]:
    """Families who asked for a person (转人工): signs of an emergency first, then oldest first."""
    urgent = case((HandoffRequest.step == RED_FLAG, 0), else_=1)
    rows = await session.execute(select(HandoffRequest, ChannelUser).join(
        ChannelUser, ChannelUser.id == HandoffRequest.channel_user_id).where(
        HandoffRequest.status == "waiting").order_by(urgent, HandoffRequest.created_at))
    return [(r, u) for r, u in rows.all()]


async def read_transcript(session: AsyncSession, user_id: int, actor: str) -> list[TranscriptEntry]:
    """The whole conversation, recorded in the access log."""
    entries = list((await session.execute(select(TranscriptEntry).where(
        TranscriptEntry.channel_user_id == user_id).order_by(TranscriptEntry.created_at,
                                                             TranscriptEntry.id))).scalars())
    await audit.record(session, actor, "pii.transcript_viewed", f"channel_user:{user_id}",
                       {"entries": len(entries)})
    return entries


async def uploads_of_user(session: AsyncSession, user_id: int) -> list[Upload]:
    return list((await session.execute(select(Upload).where(Upload.channel_user_id == user_id)
                                       .order_by(Upload.id))).scalars())


async def open_upload(session: AsyncSession, upload_id: int, actor: str, purpose: str = "view") -> tuple[Upload, bytes]:
    """An uploaded file decrypted for staff, recorded in the access log."""
    upload = await session.get_one(Upload, upload_id)
    data = await read_decrypted(upload.storage_path)
    await audit.record(session, actor, f"pii.upload_{purpose}", f"upload:{upload.id}",
                       {"kind": upload.kind, "sha256": upload.sha256})
    return upload, data


async def open_consent_pdf(session: AsyncSession, document_id: str, actor: str) -> tuple[Consent, bytes]:
    consent = (await session.execute(select(Consent).where(Consent.document_id == document_id))).scalar_one()
    if not consent.pdf_path:
        raise LookupError("the consent has not been sealed yet")
    data = await read_decrypted(consent.pdf_path)
    await audit.record(session, actor, "pii.consent_downloaded", f"consent:{consent.id}",
                       {"document_id": document_id})
    return consent, data


async def patient_of_user(session: AsyncSession, user_id: int, actor: str) -> Patient | None:
    """The latest patient of a conversation, with an access record when one is shown."""
    patient = (await session.execute(select(Patient).join(Intake, Intake.patient_id == Patient.id).where(
        Intake.channel_user_id == user_id).order_by(Intake.id.desc()).limit(1))).scalar_one_or_none()
    if patient is not None:
        await audit.record(session, actor, "pii.patient_viewed", f"patient:{patient.id}")
    return patient


async def assessment_of_intake(session: AsyncSession, intake_id: int,
                               lang: str = "zh") -> AssessmentCard | None:
    """The intake's latest pre-assessment in words, for the reviewer (callers record the access)."""
    record = (await session.execute(select(Assessment).where(Assessment.intake_id == intake_id)
                                    .order_by(Assessment.id.desc()).limit(1))).scalar_one_or_none()
    if record is None:
        return None
    return assessment_card(questionnaire(), dict(record.answers or {}), barthel_score=record.barthel_score,
                           barthel_grade=record.barthel_grade, flags=list(record.flags or []),
                           eligible=record.eligible, version=record.questionnaire_version, lang=lang)


async def assessed_intake_of_user(session: AsyncSession, user_id: int) -> int | None:
    """The conversation's latest intake that reached the pre-assessment."""
    return (await session.execute(select(Intake.id).join(Assessment, Assessment.intake_id == Intake.id)
                                  .where(Intake.channel_user_id == user_id).order_by(Intake.id.desc())
                                  .limit(1))).scalar_one_or_none()


async def uploads_of_intake(session: AsyncSession, intake_id: int) -> list[Upload]:
    return list((await session.execute(select(Upload).where(Upload.intake_id == intake_id)
                                       .order_by(Upload.id))).scalars())


async def list_bookings(session: AsyncSession, *, status: str | None = None, district: str | None = None,
                        day: date | None = None, limit: int = 200) -> list[tuple[Booking, Slot, Patient]]:
    query = (select(Booking, Slot, Patient).join(Slot, Slot.id == Booking.slot_id)
             .join(Patient, Patient.id == Booking.patient_id).order_by(Slot.day, Slot.start, Booking.id)
             .limit(limit))
    if status:
        query = query.where(Booking.status == status)
    if district:
        query = query.where(Booking.district == district)
    if day:
        query = query.where(Slot.day == day)
    return [(b, s, p) for b, s, p in (await session.execute(query)).all()]


async def list_complaints(session: AsyncSession, status: str | None = None) -> list[Complaint]:
    query = select(Complaint).order_by(Complaint.created_at.desc())
    if status:
        query = query.where(Complaint.status == status)
    return list((await session.execute(query)).scalars())


def age_of(moment: datetime, now: datetime | None = None) -> timedelta:
    return (now or clock.now()) - moment


async def workload(session: AsyncSession, since: date, until: date) -> dict[str, Any]:
    """Workload statistics (DOMAIN.md: 工作量统计分析) for visits in [since, until]; try-out
    conversations (/try) are left out."""
    tryouts = select(ChannelUser.id).where(ChannelUser.is_tryout.is_(True))
    in_range = (Slot.day >= since) & (Slot.day <= until) & Booking.channel_user_id.not_in(tryouts)
    per_nurse_day = (await session.execute(
        select(CareWorker.name, Slot.day, func.count(Booking.id))
        .join(Booking, Booking.nurse_id == CareWorker.id).join(Slot, Slot.id == Booking.slot_id)
        .where(in_range, Booking.status.in_(("assigned", "completed")))
        .group_by(CareWorker.name, Slot.day).order_by(Slot.day, CareWorker.name))).all()
    per_district = (await session.execute(
        select(Booking.district, func.count(Booking.id)).join(Slot, Slot.id == Booking.slot_id)
        .where(in_range).group_by(Booking.district).order_by(Booking.district))).all()
    by_state = (await session.execute(
        select(Booking.status, func.count(Booking.id)).join(Slot, Slot.id == Booking.slot_id)
        .where(in_range).group_by(Booking.status))).all()
    per_service: dict[str, int] = {}
    for (codes,) in (await session.execute(select(Booking.service_codes).join(Slot, Slot.id == Booking.slot_id)
                                           .where(in_range))).all():
        for code in codes:
            per_service[code] = per_service.get(code, 0) + 1
    complaints_by_state = (await session.execute(
        select(Complaint.status, func.count(Complaint.id)).where(Complaint.channel_user_id.not_in(tryouts))
        .group_by(Complaint.status))).all()
    ratings = (await session.execute(select(func.avg(Booking.rating), func.count(Booking.rating)).join(
        Slot, Slot.id == Booking.slot_id).where(in_range, Booking.rating.is_not(None)))).one()
    return {
        "since": since.isoformat(), "until": until.isoformat(),
        "visits_per_nurse_per_day": [{"nurse": n, "day": d.isoformat(), "visits": c} for n, d, c in per_nurse_day],
        "bookings_per_district": {d: c for d, c in per_district},
        "bookings_by_state": {s: c for s, c in by_state},
        "bookings_per_service": dict(sorted(per_service.items())),
        "complaints_by_state": {s: c for s, c in complaints_by_state},
        "rating_average": round(float(ratings[0]), 2) if ratings[0] is not None else None,
        "ratings": ratings[1],
    }
