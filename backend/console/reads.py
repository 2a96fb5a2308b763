"""Read queries the console needs beyond ``backend.queries``; what shows personal data writes an
access record (DOMAIN.md: 全程留痕，可查询、可追溯)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, clock, hotline, queries
from backend.config import questionnaire
from backend.console import labels
from backend.conversations import RED_FLAG
from backend.models import (
    Booking,
    BookingEvent,
    CareWorker,
    ChannelUser,
    Complaint,
    Consent,
    ConversationState,
    DataRequest,
    HandoffRequest,
    Intake,
    Patient,
    Slot,
    StaffAccount,
    TranscriptEntry,
    Upload,
    VisitReport,
)


@dataclass(frozen=True)
class BookingFile:
    """Everything on a booking's page."""

    booking: Booking
    slot: Slot
    patient: Patient
    user: ChannelUser
    events: list[BookingEvent]
    consent: Consent | None
    nurse: CareWorker | None


async def booking_file(session: AsyncSession, booking_id: int, actor: str) -> BookingFile | None:
    """A booking with its patient, consent and history, recorded as a view of the patient."""
    booking = await session.get(Booking, booking_id)
    if booking is None:
        return None
    slot = await session.get_one(Slot, booking.slot_id)
    patient = await session.get_one(Patient, booking.patient_id)
    user = await session.get_one(ChannelUser, booking.channel_user_id)
    events = list((await session.execute(select(BookingEvent).where(BookingEvent.booking_id == booking.id)
                                         .order_by(BookingEvent.created_at, BookingEvent.id))).scalars())
    consent = (await session.execute(select(Consent).where(Consent.intake_id == booking.intake_id)
                                     .order_by(Consent.id.desc()).limit(1))).scalar_one_or_none()
    nurse = await session.get(CareWorker, booking.nurse_id) if booking.nurse_id else None
    await audit.record(session, actor, "pii.booking_viewed", f"booking:{booking.id}",
                       {"number": booking.number, "patient": patient.id})
    return BookingFile(booking, slot, patient, user, events, consent, nurse)


@dataclass(frozen=True)
class QueueRow:
    """One family in the 转人工 queue, as the hotline reads it."""

    request: HandoffRequest
    user: ChannelUser
    family: str | None  # 张丽（女儿）; the channel's display name; None when nobody gave a name
    waiting_seconds: float
    step: str
    urgent: bool
    held_by: str | None
    first_response: str = "ok"  # ok, amber or red while nobody has taken the conversation (backend.hotline)


async def handoff_inbox(session: AsyncSession) -> list[QueueRow]:
    """Families waiting for a person (emergencies first, then oldest), then conversations a
    member of staff holds now; each with who they are, how long they wait and where they stopped."""
    waiting = await queries.handoff_queue(session)
    held = (await session.execute(select(HandoffRequest, ChannelUser, ConversationState.taken_over_by)
                                  .join(ChannelUser, ChannelUser.id == HandoffRequest.channel_user_id)
                                  .join(ConversationState, ConversationState.channel_user_id == ChannelUser.id)
                                  .where(HandoffRequest.status == "taken",
                                         ConversationState.taken_over_by.is_not(None))
                                  .order_by(HandoffRequest.created_at))).all()
    rows = [(r, u) for r, u in waiting]
    seen = {u.id for _, u in rows}
    for request, user, _ in held:
        if user.id not in seen:
            rows.append((request, user))
            seen.add(user.id)
    ids = list(seen)
    applicants: dict[int, tuple[str | None, str | None]] = {}
    for user_id, name, relation in (await session.execute(
            select(Intake.channel_user_id, Intake.applicant_name, Intake.applicant_relation)
            .where(Intake.channel_user_id.in_(ids)).order_by(Intake.id))).all():
        if name:
            applicants[user_id] = (name, relation)
    holders = dict((await session.execute(select(ConversationState.channel_user_id, ConversationState.taken_over_by)
                                          .where(ConversationState.channel_user_id.in_(ids)))).all())
    staff = await staff_names(session, {h for h in holders.values() if h})
    topics = {q.id: q.zh.split("：")[0] for q in questionnaire().questions}
    now = clock.now()
    found = []
    for request, user in rows:
        name, relation = applicants.get(user.id, (None, None))
        family = user.display_name
        if name:
            family = f"{name}（{labels.RELATIONS.get(relation or '', relation)}）" if relation else name
        held_by = staff.get(holders.get(user.id) or "")
        found.append(QueueRow(request, user, family, (now - request.created_at).total_seconds(),
                              labels.step_words(request.flow, request.step, topics),
                              request.step == RED_FLAG, held_by,
                              "ok" if held_by else hotline.first_response_level(request.created_at, now)))
    return found


async def staff_names(session: AsyncSession, usernames: set[str]) -> dict[str, str]:
    """Display names of members of staff by username (a system's actor keeps its own name)."""
    if not usernames:
        return {}
    found = dict((await session.execute(select(StaffAccount.username, StaffAccount.display_name).where(
        StaffAccount.username.in_(usernames)))).all())
    return {name: found.get(name, name) for name in usernames}


async def message_authors(session: AsyncSession, entries: list[TranscriptEntry]) -> dict[str, str]:
    """Display names of the members of staff who wrote some of these messages."""
    return await staff_names(session, {entry.author for entry in entries
                                       if entry.direction == "out" and entry.author not in ("bot", "system")})


async def record_listing(session: AsyncSession, actor: str, what: str, count: int) -> None:
    """A list showing patients' names or families' words is an access too (without the query text,
    which may itself be a phone or ID number)."""
    await audit.record(session, actor, f"pii.{what}_listed", what, {"rows": count})


async def conversation_state(session: AsyncSession, user_id: int) -> ConversationState | None:
    return await session.get(ConversationState, user_id)


async def waiting_handoff(session: AsyncSession, user_id: int) -> HandoffRequest | None:
    return (await session.execute(select(HandoffRequest).where(
        HandoffRequest.channel_user_id == user_id, HandoffRequest.status == "waiting")
        .limit(1))).scalar_one_or_none()


async def alarm_bookings(session: AsyncSession, alarms: list[VisitReport]) -> dict[int, Booking]:
    ids = {alarm.booking_id for alarm in alarms}
    if not ids:
        return {}
    rows = (await session.execute(select(Booking).where(Booking.id.in_(ids)))).scalars()
    return {booking.id: booking for booking in rows}


async def workers(session: AsyncSession) -> list[CareWorker]:
    return list((await session.execute(select(CareWorker).order_by(CareWorker.active.desc(),
                                                                   CareWorker.role, CareWorker.name))).scalars())


async def complaint(session: AsyncSession, complaint_id: int, actor: str) -> Complaint | None:
    found = await session.get(Complaint, complaint_id)
    if found is not None:
        await audit.record(session, actor, "pii.complaint_viewed", f"complaint:{found.id}",
                           {"number": found.number})
    return found


async def counts(session: AsyncSession) -> dict[str, int]:
    """Numbers for the dashboard's tiles."""
    bookings = dict((await session.execute(select(Booking.status, func.count(Booking.id))
                                           .group_by(Booking.status))).all())
    complaints = dict((await session.execute(select(Complaint.status, func.count(Complaint.id))
                                             .group_by(Complaint.status))).all())
    waiting = (await session.execute(select(func.count(HandoffRequest.id)).where(
        HandoffRequest.status == "waiting"))).scalar_one()
    return {"waiting": waiting, "requested": bookings.get("requested", 0),
            "confirmed": bookings.get("confirmed", 0), "assigned": bookings.get("assigned", 0),
            "complaints": complaints.get("open", 0) + complaints.get("in_progress", 0)}


async def open_data_requests(session: AsyncSession) -> tuple[int, int]:
    """Personal-data requests still open, and how many of them are past their due date."""
    open_, late = (await session.execute(select(
        func.count(DataRequest.id), func.count(DataRequest.id).filter(DataRequest.due_at < clock.now()))
        .where(DataRequest.status == "open"))).one()
    return open_, late


async def patient_names(session: AsyncSession, patient_ids: set[int]) -> dict[int, str]:
    if not patient_ids:
        return {}
    return dict((await session.execute(select(Patient.id, Patient.name).where(
        Patient.id.in_(patient_ids)))).all())


def attachments(entries: list[TranscriptEntry], uploads: list[Upload]) -> dict[int, list[Upload]]:
    """Which uploads came with which message (the engine records them on the message)."""
    by_id = {upload.id: upload for upload in uploads}
    found: dict[int, list[Upload]] = {}
    for entry in entries:
        ids = (entry.payload or {}).get("upload_ids") or ([entry.upload_id] if entry.upload_id else [])
        files = [by_id[i] for i in ids if i in by_id]
        if files:
            found[entry.id] = files
    return found


def chosen_labels(entries: list[TranscriptEntry]) -> dict[int, str]:
    """The label of each button a family pressed, from the bot's message that offered it."""
    offered: dict[str, str] = {}
    found: dict[int, str] = {}
    for entry in entries:
        payload = entry.payload or {}
        if entry.direction == "out" and payload.get("choices"):
            offered = {str(c.get("id")): str(c.get("label")) for c in payload["choices"]}
        elif entry.direction == "in" and payload.get("choice") is not None:
            found[entry.id] = offered.get(str(payload["choice"]), str(payload["choice"]))
    return found
