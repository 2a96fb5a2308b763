"""Schedules: nurse managers open visit windows and set how many visits each takes."""
from __future__ import annotations

from backend import bookings
from backend.config import hospital_config

from .errors import ApiError
from .routing import Call, route
from .schemas import CapacityBody, NewSlotBody, SlotOut

SLOT = "{slot_id:\\d{1,9}}"


def _slot_out(slot) -> SlotOut:  # type: ignore[no-untyped-def]
    return SlotOut(id=slot.id, district=slot.district, date=slot.day, start=slot.start, end=slot.end,
                   capacity=slot.capacity, booked=slot.booked)


@route("POST", "/api/slots", scope="slots:write", tag="schedule", body=NewSlotBody, answer=SlotOut,
       errors=(400, 409), status=201)
async def add_slot(call: Call) -> SlotOut:
    """Open a visit window in a served district."""
    body = call.body_as(NewSlotBody)
    if hospital_config().service_area.district(body.district) is None:
        raise ApiError(400, f"unknown district {body.district}")
    try:
        slot = await bookings.add_slot(call.session, district=body.district, day=body.date, start=body.start,
                                       end=body.end, capacity=body.capacity, actor=call.actor)
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    return _slot_out(slot)


@route("POST", f"/api/slots/{SLOT}/capacity", scope="slots:write", tag="schedule", body=CapacityBody,
       answer=SlotOut, errors=(400, 404, 409))
async def set_capacity(call: Call) -> SlotOut:
    """Change a window's capacity; never below the places already booked (409)."""
    slot = await bookings.set_capacity(call.session, call.int_arg("slot_id"),
                                       call.body_as(CapacityBody).capacity, call.actor)
    return _slot_out(slot)
