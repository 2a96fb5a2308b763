"""Bookings for nurse managers and the hospital's system: list, read, confirm, reject, cancel,
assign a qualified worker, reschedule; and the open slots to reschedule to."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend import audit, bookings, clock, series
from backend.care import qualified_workers
from backend.config import hospital_config
from backend.models import Booking, BookingEvent, CareWorker, Patient, Slot, VisitReport
from backend.queries import assessment_of_intake, list_bookings, uploads_of_intake

from .errors import ApiError
from .privacy import patient_out, phone_for
from .routing import Call, not_found, route
from .schemas import (
    AssessmentAnswerOut,
    AssessmentOut,
    AssignBody,
    BookingDetail,
    BookingEventOut,
    BookingFilter,
    BookingList,
    BookingSummary,
    CancelBody,
    CareWorkerList,
    ReasonBody,
    RescheduleBody,
    SlotFilter,
    SlotList,
    SlotOut,
    UploadRef,
    VisitReportOut,
    WorkerRef,
)
from .workers import worker_out

NUMBER = "{number:[A-Za-z0-9]{1,30}}"


async def booking_or_404(call: Call) -> Booking:
    booking = await bookings.by_number(call.session, call.arg("number").upper())
    if booking is None:
        raise not_found("booking")
    return booking


async def _workers(call: Call, ids: set[int | None]) -> dict[int, WorkerRef]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = (await call.session.execute(select(CareWorker).where(CareWorker.id.in_(wanted)))).scalars()
    return {w.id: WorkerRef(id=w.id, name=w.name, title=w.title) for w in rows}


def _summary(booking: Booking, slot: Slot, patient: Patient, nurse: WorkerRef | None) -> BookingSummary:
    return BookingSummary(number=booking.number, status=booking.status,  # type: ignore[arg-type]
                          district=booking.district, date=slot.day, start=slot.start, end=slot.end,
                          services=booking.service_codes, patient_name=patient.name,
                          present_name=booking.present_name, nurse=nurse,
                          total_price=f"{booking.total_price:.2f}", series=booking.series)


async def detail(call: Call, booking: Booking) -> BookingDetail:
    """The whole booking, with an access record (it shows address and phones)."""
    await call.session.refresh(booking)
    slot = await call.session.get_one(Slot, booking.slot_id)
    patient = await call.session.get_one(Patient, booking.patient_id)
    nurse = (await _workers(call, {booking.nurse_id})).get(booking.nurse_id or 0)
    events = (await call.session.execute(select(BookingEvent).where(BookingEvent.booking_id == booking.id)
                                         .order_by(BookingEvent.id))).scalars()
    reports = (await call.session.execute(select(VisitReport).where(VisitReport.booking_id == booking.id)
                                          .order_by(VisitReport.id))).scalars()
    card = await assessment_of_intake(call.session, booking.intake_id)
    uploads = await uploads_of_intake(call.session, booking.intake_id)
    await audit.record(call.session, call.actor, "pii.booking_viewed", f"booking:{booking.id}",
                       {"number": booking.number})
    assessment = None if card is None else AssessmentOut(
        barthel_score=card.barthel_score, barthel_grade=card.barthel_grade, grade_label=card.grade_label,
        eligible=card.eligible, red_flags=card.red_flags, questionnaire_version=card.questionnaire_version,
        answers=[AssessmentAnswerOut(question_id=a.question_id, question=a.question, answer=a.answer,
                                     points=a.points, red_flag=a.red_flag) for a in card.answers])
    summary = _summary(booking, slot, patient, nurse)
    return BookingDetail(
        **summary.model_dump(), address=booking.address, present_relation=booking.present_relation,
        present_phone=phone_for(call.who, booking.present_phone) or "",
        patient=patient_out(call.who, patient, clock.today()),
        created_at=booking.created_at, arrived_at=booking.arrived_at, finished_at=booking.finished_at,
        rating=booking.rating,
        events=[BookingEventOut(from_status=e.from_status, to_status=e.to_status, actor=e.actor,
                                note=e.note, at=e.created_at) for e in events],
        visit_reports=[VisitReportOut(kind=r.kind, latitude=r.latitude, longitude=r.longitude, note=r.note,
                                      reported_by=r.reported_by, at=r.created_at) for r in reports],
        assessment=assessment,
        uploads=[UploadRef(id=u.id, kind=u.kind, filename=u.filename, content_type=u.content_type, size=u.size)
                 for u in uploads])


@route("GET", "/api/bookings", scope="bookings:read", tag="bookings", query=BookingFilter,
       answer=BookingList)
async def list_all(call: Call) -> BookingList:
    """Bookings by status, district and visit date, soonest first."""
    query = call.query_as(BookingFilter)
    rows = await list_bookings(call.session, status=query.status, district=query.district, day=query.date)
    nurses = await _workers(call, {b.nurse_id for b, _, _ in rows})
    return BookingList(bookings=[_summary(b, s, p, nurses.get(b.nurse_id or 0)) for b, s, p in rows])


@route("GET", f"/api/bookings/{NUMBER}", scope="bookings:read", tag="bookings", answer=BookingDetail,
       errors=(404,))
async def read(call: Call) -> BookingDetail:
    """One booking with patient, address, person present, history and visit reports."""
    return await detail(call, await booking_or_404(call))


@route("POST", f"/api/bookings/{NUMBER}/confirm", scope="bookings:write", tag="bookings",
       answer=BookingDetail, errors=(404, 409))
async def confirm(call: Call) -> BookingDetail:
    """Confirm a requested booking; the family is told."""
    booking = await bookings.change_status(call.session, await booking_or_404(call), "confirmed", call.actor)
    return await detail(call, booking)


@route("POST", f"/api/bookings/{NUMBER}/reject", scope="bookings:write", tag="bookings", body=ReasonBody,
       answer=BookingDetail, errors=(400, 404, 409))
async def reject(call: Call) -> BookingDetail:
    """Reject a booking with a reason the family reads; its place is freed."""
    booking = await bookings.change_status(call.session, await booking_or_404(call), "rejected", call.actor,
                                           note=call.body_as(ReasonBody).reason)
    return await detail(call, booking)


@route("POST", f"/api/bookings/{NUMBER}/cancel", scope="bookings:write", tag="bookings", body=CancelBody,
       answer=BookingDetail, errors=(400, 404, 409))
async def cancel(call: Call) -> BookingDetail:
    """Cancel a booking with a reason the family reads; its place is freed. With ``rest``, the
    later visits of its series (a discharge order's repeat visits) are cancelled too."""
    body = call.body_as(CancelBody)
    booking = await booking_or_404(call)
    if body.rest:
        await series.cancel_from(call.session, booking, call.actor, note=body.reason)
    else:
        booking = await bookings.change_status(call.session, booking, "cancelled", call.actor, note=body.reason)
    return await detail(call, booking)


@route("POST", f"/api/bookings/{NUMBER}/assign", scope="bookings:write", tag="bookings", body=AssignBody,
       answer=BookingDetail, errors=(400, 404, 409))
async def assign(call: Call) -> BookingDetail:
    """Assign a care worker; one who does not qualify is refused with the reasons (409)."""
    booking = await booking_or_404(call)
    worker = await call.session.get(CareWorker, call.body_as(AssignBody).care_worker_id)
    if worker is None:
        raise not_found("care worker")
    await bookings.assign(call.session, booking, worker, call.actor)
    return await detail(call, booking)


@route("POST", f"/api/bookings/{NUMBER}/reschedule", scope="bookings:write", tag="bookings",
       body=RescheduleBody, answer=BookingDetail, errors=(400, 404, 409))
async def reschedule(call: Call) -> BookingDetail:
    """Move a booking to another slot of its district; a full slot is refused (409)."""
    booking = await booking_or_404(call)
    slot = await call.session.get(Slot, call.body_as(RescheduleBody).slot_id)
    if slot is None:
        raise not_found("slot")
    if slot.district != booking.district:
        raise ApiError(409, f"the slot is in {slot.district}, the booking in {booking.district}",
                       problem="slot_elsewhere")
    if slot.day <= clock.today():
        raise ApiError(409, "the slot is not in the future", problem="slot_past")
    if slot.id == booking.slot_id:
        raise ApiError(409, "the booking is already in that slot", problem="slot_same")
    await bookings.reschedule(call.session, booking, slot.id, call.actor)
    return await detail(call, booking)


@route("GET", f"/api/bookings/{NUMBER}/qualified-workers", scope="care_workers:read", tag="bookings",
       answer=CareWorkerList, errors=(404,))
async def qualified(call: Call) -> CareWorkerList:
    """Active workers who may take this visit (role, title, years, district)."""
    workers = await qualified_workers(call.session, await booking_or_404(call))
    return CareWorkerList(care_workers=[worker_out(call.who, w) for w in workers])


@route("GET", "/api/slots", scope="bookings:read", tag="bookings", query=SlotFilter, answer=SlotList,
       errors=(400,))
async def open_slots(call: Call) -> SlotList:
    """Slots of a district with a free place, from a date on (tomorrow by default)."""
    query = call.query_as(SlotFilter)
    config = hospital_config()
    if config.service_area.district(query.district) is None:
        known = ", ".join(d.name for d in config.service_area.districts)
        raise ApiError(400, f"unknown district {query.district}; served: {known}")
    today = clock.today()
    await bookings.ensure_slots(call.session, config, query.district, today)
    first = max(query.from_ or today, today + timedelta(days=1))
    slots = (await call.session.execute(select(Slot).where(
        Slot.district == query.district, Slot.day >= first, Slot.booked < Slot.capacity)
        .order_by(Slot.day, Slot.start).limit(50))).scalars()
    return SlotList(slots=[SlotOut(id=s.id, district=s.district, date=s.day, start=s.start, end=s.end,
                                   capacity=s.capacity, booked=s.booked) for s in slots])
