"""Visit slots and bookings. A slot's last place can be taken by one family only."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from backend import audit, clock, notify
from backend.care import check_assignment
from backend.config import Catalogue, HospitalConfig, hospital_config
from backend.models import Booking, BookingEvent, CareWorker, Slot
from backend.reminders import schedule_reminders
from backend.workdays import is_visit_day

ACTIVE_STATES = ("requested", "confirmed", "assigned")


class SlotFull(Exception):
    """The chosen slot was taken in the meantime."""


class SlotExists(Exception):
    """The district already has a window starting at that day and time."""


async def ensure_slots(session: AsyncSession, config: HospitalConfig, district: str,
                       today: date | None = None, *, days: int | None = None) -> None:
    """Create the district's slots for the planning horizon where they do not exist yet, on the
    hospital's visit days (no public holidays, adjusted working days included, no closed days)."""
    today = today or clock.today()
    plan = config.schedule
    first = today + timedelta(days=plan.first_day_offset)
    horizon = [first + timedelta(days=i) for i in range(days or plan.days_ahead)]
    horizon = [d for d in horizon if is_visit_day(d, plan)]
    existing = set((await session.execute(
        select(Slot.day, Slot.start).where(Slot.district == district, Slot.day >= first))).all())
    for day in horizon:
        for window in plan.windows:
            if (day, window.start) in existing:
                continue
            try:
                async with session.begin_nested():
                    session.add(Slot(district=district, day=day, start=window.start, end=window.end,
                                     capacity=window.capacity, booked=0))
            except IntegrityError:  # another process created it
                pass


async def open_slots(session: AsyncSession, config: HospitalConfig, district: str,
                     limit: int = 8, today: date | None = None, *, days: int | None = None) -> list[Slot]:
    """Slots with a free place in the district, soonest first (generated ``days`` ahead, the
    schedule's horizon by default)."""
    today = today or clock.today()
    await ensure_slots(session, config, district, today, days=days)
    query = (select(Slot).where(Slot.district == district, Slot.day > today,
                                Slot.booked < Slot.capacity)
             .order_by(Slot.day, Slot.start).limit(limit))
    return list((await session.execute(query)).scalars())


async def take_place(session: AsyncSession, slot_id: int) -> None:
    """Take one place atomically: a conditional UPDATE, so two families never share the last one."""
    result = await session.execute(
        update(Slot).where(Slot.id == slot_id, Slot.booked < Slot.capacity)
        .values(booked=Slot.booked + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult for UPDATE
        raise SlotFull(slot_id)


async def release_place(session: AsyncSession, slot_id: int) -> None:
    await session.execute(update(Slot).where(Slot.id == slot_id, Slot.booked > 0)
                          .values(booked=Slot.booked - 1).execution_options(synchronize_session=False))


def price_of(catalogue: Catalogue, config: HospitalConfig, codes: list[str]) -> Decimal:
    """Local medical service prices plus transport, IT and labour fees (DOMAIN.md: Price)."""
    items = sum((item.price for item in map(catalogue.get, codes) if item is not None), Decimal("0"))
    return items + config.fees.total


@dataclass(frozen=True)
class NewBooking:
    intake_id: int
    patient_id: int
    channel_user_id: int
    slot_id: int
    service_codes: list[str]
    district: str
    address: str
    present_name: str
    present_relation: str
    present_phone: str
    total_price: Decimal
    series: str | None = None  # the number of the series' first visit (repeat visits)


def _booking_number(day: date) -> str:
    return f"JH{day:%y%m%d}{secrets.randbelow(10**6):06d}"


async def create_booking(session: AsyncSession, new: NewBooking, actor: str) -> Booking:
    """Take a place in the slot, record the booking as requested and queue its reminders."""
    await take_place(session, new.slot_id)
    slot = await session.get_one(Slot, new.slot_id)
    await session.refresh(slot)
    booking = Booking(number=_booking_number(slot.day), intake_id=new.intake_id,
                      patient_id=new.patient_id, channel_user_id=new.channel_user_id,
                      slot_id=new.slot_id, service_codes=new.service_codes, status="requested",
                      district=new.district, address=new.address, present_name=new.present_name,
                      present_relation=new.present_relation, present_phone=new.present_phone,
                      total_price=new.total_price, series=new.series)
    session.add(booking)
    await session.flush()
    await schedule_reminders(session, hospital_config(), booking, slot)
    session.add(BookingEvent(booking_id=booking.id, from_status=None, to_status="requested", actor=actor))
    await session.flush()
    await audit.record(session, actor, "booking.requested", f"booking:{booking.id}",
                       {"number": booking.number, "slot": booking.slot_id})
    await notify.notify_hospital(session, "booking.requested", {
        "number": booking.number, "date": slot.day.isoformat(), "status": "requested",
        "services": new.service_codes, "district": new.district})
    return booking


_OF_USER = (select(Booking, Slot).join(Slot, Slot.id == Booking.slot_id)
            .where(Booking.channel_user_id == bindparam("channel_user_id"))
            .order_by(Slot.day.desc(), Slot.start.desc()))
_ACTIVE_OF_USER = _OF_USER.where(Booking.status.in_(ACTIVE_STATES))


async def bookings_of_user(session: AsyncSession, channel_user_id: int,
                           active_only: bool = False) -> list[tuple[Booking, Slot]]:
    """A family's bookings with their slots, latest visit first (statements built once: a
    chat turn asks this for "我的预约")."""
    query = _ACTIVE_OF_USER if active_only else _OF_USER
    return [(b, s) for b, s in (await session.execute(query, {"channel_user_id": channel_user_id})).all()]


TRANSITIONS: dict[str, set[str]] = {
    "requested": {"confirmed", "rejected", "cancelled"},
    "confirmed": {"assigned", "rejected", "cancelled"},
    "assigned": {"assigned", "completed", "cancelled"},
    "completed": set(),
    "rejected": set(),
    "cancelled": set(),
}


class BadTransition(ValueError):
    """A booking cannot move from its state to the one asked for."""


async def change_status(session: AsyncSession, booking: Booking, to_status: str, actor: str,
                        note: str | None = None, *, tell_family: bool = True) -> Booking:
    """Move a booking to another state, recording who did it and when, and tell the family
    (through their channel) and the hospital's system."""
    previous = booking.status
    if to_status not in TRANSITIONS.get(previous, set()):
        raise BadTransition(f"a {previous} booking cannot become {to_status}")
    await _move(session, booking, previous, status=to_status)
    if to_status in ("cancelled", "rejected") and previous in ACTIVE_STATES:
        await release_place(session, booking.slot_id)
    session.add(BookingEvent(booking_id=booking.id, from_status=previous, to_status=to_status,
                             actor=actor, note=note))
    await session.flush()
    await audit.record(session, actor, f"booking.{to_status}", f"booking:{booking.id}",
                       {"number": booking.number, "from": previous, "note": note})
    slot = await session.get_one(Slot, booking.slot_id)
    # raw values: the family's message words them in its language when it is sent (flows/notices.py)
    values = {"number": booking.number, "date": slot.day.isoformat(), "start": slot.start.strftime("%H:%M"),
              "end": slot.end.strftime("%H:%M"), "note": note or "", "services": list(booking.service_codes)}
    if booking.nurse_id:
        worker = await session.get(CareWorker, booking.nurse_id)
        values["nurse"] = f"{worker.name}（{worker.title}）" if worker else ""
        if worker:
            values["nurse_name"], values["nurse_title"] = worker.name, worker.title
    if tell_family:
        await notify.notify_family(session, booking.channel_user_id, f"booking.{to_status}",
                                   message=f"notify.booking.{to_status}", values=values)
    await notify.notify_hospital(session, f"booking.{to_status}", {**values, "status": to_status,
                                                                   "previous": previous})
    return booking


async def _move(session: AsyncSession, booking: Booking, expected_status: str, **values: object) -> None:
    """Change the booking's row with one conditional UPDATE from the state it was read in, so
    that of several concurrent requests exactly one wins (and frees the slot's place once)."""
    await session.flush()
    result = await session.execute(
        update(Booking).where(Booking.id == booking.id, Booking.status == expected_status,
                              Booking.slot_id == booking.slot_id)
        .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult for UPDATE
        raise BadTransition("the booking was changed by someone else in the meantime; reload it")
    for name, value in values.items():
        set_committed_value(booking, name, value)


async def assign(session: AsyncSession, booking: Booking, worker: CareWorker, actor: str) -> Booking:
    """Assign a qualified worker (DOMAIN.md: a booking is only assigned to someone who qualifies)."""
    check_assignment(worker, booking)
    booking.nurse_id = worker.id
    return await change_status(session, booking, "assigned", actor, note=worker.name)


async def reschedule(session: AsyncSession, booking: Booking, slot_id: int, actor: str) -> Booking:
    """Move an active booking to another slot, taking a place there before freeing the old one."""
    if booking.status not in ACTIVE_STATES:
        raise BadTransition(f"a {booking.status} booking cannot be rescheduled")
    old = booking.slot_id
    await _move(session, booking, booking.status, slot_id=slot_id)
    await take_place(session, slot_id)
    await release_place(session, old)
    session.add(BookingEvent(booking_id=booking.id, from_status=booking.status, to_status=booking.status,
                             actor=actor, note=f"rescheduled from slot {old} to {slot_id}"))
    await session.flush()
    await audit.record(session, actor, "booking.rescheduled", f"booking:{booking.id}",
                       {"from_slot": old, "to_slot": slot_id})
    slot = await session.get_one(Slot, slot_id)
    await schedule_reminders(session, hospital_config(), booking, slot)  # the old slot's lapse
    await notify.notify_family(session, booking.channel_user_id, "booking.rescheduled",
                               message="notify.booking.rescheduled",
                               values={"number": booking.number, "date": slot.day.isoformat(),
                                       "start": slot.start.strftime("%H:%M"), "end": slot.end.strftime("%H:%M"),
                                       "services": list(booking.service_codes)})
    await notify.notify_hospital(session, "booking.rescheduled", {"number": booking.number,
                                                                 "date": slot.day.isoformat()})
    return booking


async def by_number(session: AsyncSession, number: str) -> Booking | None:
    return (await session.execute(select(Booking).where(Booking.number == number))).scalar_one_or_none()


async def add_slot(session: AsyncSession, *, district: str, day: date, start: time, end: time,
                   capacity: int, actor: str) -> Slot:
    """A visit window a nurse manager opens by hand (beyond the schedule in hospital.yaml)."""
    if capacity < 1 or end <= start:
        raise ValueError("a slot needs a capacity of at least 1 and an end after its start")
    slot = Slot(district=district, day=day, start=start, end=end, capacity=capacity, booked=0)
    try:
        async with session.begin_nested():
            session.add(slot)
    except IntegrityError:
        raise SlotExists(f"{district} already has a window on {day} at {start:%H:%M}") from None
    await audit.record(session, actor, "slot.added", f"slot:{slot.id}",
                       {"district": district, "day": day.isoformat(), "capacity": capacity})
    return slot


async def set_capacity(session: AsyncSession, slot_id: int, capacity: int, actor: str) -> Slot:
    """Change how many visits a window takes; never below the places already booked."""
    slot = await session.get_one(Slot, slot_id)
    await session.refresh(slot)
    if capacity < slot.booked:
        raise BadTransition(f"{slot.booked} places are already booked; capacity cannot be {capacity}")
    previous, slot.capacity = slot.capacity, capacity
    await session.flush()
    await audit.record(session, actor, "slot.capacity", f"slot:{slot.id}", {"from": previous, "to": capacity})
    return slot
