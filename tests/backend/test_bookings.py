"""Slots and bookings on a real database: the last place goes to one family only."""
from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import func, select

from backend import bookings, conversations, intakes
from backend.config import hospital_config
from backend.db import transaction
from backend.identity import parse_resident_id
from backend.models import Booking, Notification, Slot


async def _intake(runtime, n: int) -> tuple[int, int, int]:
    async with transaction(runtime.sessions) as session:
        user = await conversations.get_or_create_user(session, "terminal", f"family-{n}")
        intake = await intakes.open_intake(session, user.id, "2026-11")
        patient = await intakes.save_patient(session, intake.id, name=f"病人{n}",
                                             resident_id=parse_resident_id("11010519491231002X"),
                                             phone="13800138000", address="北京市朝阳区某路1号", district="朝阳区")
        return user.id, intake.id, patient.id


async def test_open_slots_follow_the_schedule(runtime, today):
    async with transaction(runtime.sessions) as session:
        slots = await bookings.open_slots(session, hospital_config(), "朝阳区", limit=50)
    assert slots and all(s.day > today and s.day.weekday() != 6 for s in slots)
    assert {(s.start.hour, s.end.hour) for s in slots} == {(9, 11), (14, 16)}
    async with transaction(runtime.sessions) as session:  # idempotent
        again = await bookings.open_slots(session, hospital_config(), "朝阳区", limit=50)
    assert [s.id for s in again] == [s.id for s in slots]


async def test_concurrent_families_never_overfill_a_slot(runtime):
    async with transaction(runtime.sessions) as session:
        slot = (await bookings.open_slots(session, hospital_config(), "朝阳区"))[0]
    people = [await _intake(runtime, n) for n in range(12)]

    async def book(user_id: int, intake_id: int, patient_id: int) -> str:
        try:
            async with transaction(runtime.sessions) as session:
                await bookings.create_booking(session, bookings.NewBooking(
                    intake_id=intake_id, patient_id=patient_id, channel_user_id=user_id,
                    slot_id=slot.id, service_codes=["wound_care"], district="朝阳区",
                    address="北京市朝阳区某路1号", present_name="张丽", present_relation="daughter",
                    present_phone="13800138001", total_price=Decimal("180.00")), actor="test")
            return "booked"
        except bookings.SlotFull:
            return "full"

    results = await asyncio.gather(*(book(*p) for p in people))
    assert results.count("booked") == slot.capacity == 3
    async with runtime.sessions() as session:
        stored = await session.get(Slot, slot.id)
        count = (await session.execute(select(func.count(Booking.id)))).scalar_one()
    assert stored.booked == 3 and count == 3


async def _one_booking(runtime) -> tuple[Booking, Slot]:  # type: ignore[no-untyped-def]
    async with transaction(runtime.sessions) as session:
        slot = (await bookings.open_slots(session, hospital_config(), "朝阳区"))[0]
    user_id, intake_id, patient_id = await _intake(runtime, 0)
    async with transaction(runtime.sessions) as session:
        booking = await bookings.create_booking(session, bookings.NewBooking(
            intake_id=intake_id, patient_id=patient_id, channel_user_id=user_id, slot_id=slot.id,
            service_codes=["wound_care"], district="朝阳区", address="北京市朝阳区某路1号",
            present_name="张丽", present_relation="daughter", present_phone="13800138001",
            total_price=Decimal("180.00")), actor="test")
    return booking, slot


async def test_of_ten_concurrent_cancels_one_wins_and_frees_the_place_once(runtime):
    booking, slot = await _one_booking(runtime)

    async def cancel(n: int) -> str:
        try:
            async with transaction(runtime.sessions) as session:
                mine = await bookings.by_number(session, booking.number)
                assert mine is not None
                await asyncio.sleep(0)  # every request has read the booking before any writes
                await bookings.change_status(session, mine, "cancelled", f"staff:{n}", note="test")
            return "cancelled"
        except bookings.BadTransition:
            return "conflict"

    results = await asyncio.gather(*(cancel(n) for n in range(10)))
    assert results.count("cancelled") == 1 and results.count("conflict") == 9
    async with runtime.sessions() as session:
        stored = await session.get(Slot, slot.id)
        kinds = (await session.execute(select(Notification.kind))).scalars().all()
    assert stored is not None and stored.booked == 0
    assert list(kinds).count("booking.cancelled") == 1


async def test_concurrent_reschedules_leave_one_place_taken(runtime):
    booking, slot = await _one_booking(runtime)
    async with transaction(runtime.sessions) as session:
        others = [s for s in await bookings.open_slots(session, hospital_config(), "朝阳区")
                  if s.id != slot.id][:5]

    async def move(target: int) -> str:
        try:
            async with transaction(runtime.sessions) as session:
                mine = await bookings.by_number(session, booking.number)
                assert mine is not None
                await asyncio.sleep(0)
                await bookings.reschedule(session, mine, target, "staff")
            return "moved"
        except bookings.BadTransition:
            return "conflict"

    results = await asyncio.gather(*(move(s.id) for s in others))
    assert "moved" in results  # one after another (SQLite) or one of them (PostgreSQL)
    async with runtime.sessions() as session:
        booked = {s.id: s.booked for s in (await session.execute(select(Slot))).scalars()}
        final = await bookings.by_number(session, booking.number)
    assert final is not None and booked[final.slot_id] == 1
    assert sum(booked[s.id] for s in [slot, *others]) == 1
