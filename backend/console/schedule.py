"""排班: a district's visit windows for the next 14 days with capacity and places booked; a nurse
manager changes a window's capacity or opens an extra one (through ``backend.bookings``)."""
from __future__ import annotations

from datetime import date, time, timedelta
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import NoResultFound

from backend import bookings, clock
from backend.config import hospital_config
from backend.console import labels
from backend.console.guard import staff, staff_form, text_field
from backend.console.pages import render, see_other
from backend.db import transaction
from backend.models import Slot
from backend.web.auth import SESSIONS, Principal

DAYS = 14


def _districts() -> list[str]:
    return [d.name for d in hospital_config().service_area.districts]


def _district(value: str) -> str:
    names = _districts()
    if not value:
        return names[0]
    if value not in names:
        raise web.HTTPBadRequest(text="不在服务范围内的区域")
    return value


def _time(value: str) -> time | None:
    try:
        return time.fromisoformat(value) if value else None
    except ValueError:
        return None


def _location(district: str) -> str:
    return "/console/schedule?district=" + quote(district, safe="")


async def _page(request: web.Request, who: Principal, district: str, *, error: str | None = None,
                form: dict[str, str] | None = None, status: int = 200) -> web.Response:
    config = hospital_config()
    today = clock.today()
    async with transaction(request.app[SESSIONS]) as session:
        await bookings.ensure_slots(session, config, district, today)
        slots = list((await session.execute(select(Slot).where(
            Slot.district == district, Slot.day >= today, Slot.day <= today + timedelta(days=DAYS))
            .order_by(Slot.day, Slot.start))).scalars())
    return render(request, who, "schedule.html.j2", http_status=status, district=district,
                  districts=_districts(), slots=slots, today=today, last=today + timedelta(days=DAYS),
                  error=error, form=form or {})


async def schedule(request: web.Request) -> web.Response:
    who = await staff(request, "slots:write")
    return await _page(request, who, _district(request.query.get("district", "")))


async def capacity(request: web.Request) -> web.Response:
    """Change a window's capacity; below the places booked, the reason is shown."""
    who, form = await staff_form(request, "slots:write")
    slot_id = int(request.match_info["slot_id"])
    district = _district(text_field(form, "district"))
    value = text_field(form, "capacity")
    if not value.isdigit():
        return await _page(request, who, district, error="容量请填写 0 或正整数。", status=400)
    try:
        async with transaction(request.app[SESSIONS]) as session:
            slot = await bookings.set_capacity(session, slot_id, int(value), who.actor)
            district = slot.district
    except NoResultFound:
        raise web.HTTPNotFound(text="没有这个时段") from None
    except bookings.BadTransition as problem:
        return await _page(request, who, district, error=labels.capacity_reason(str(problem)), status=409)
    raise see_other(_location(district), "capacity_changed")


async def add(request: web.Request) -> web.Response:
    """Open an extra window: a date from today on, a start and an end, a capacity of at least 1."""
    who, form = await staff_form(request, "slots:write")
    fields = {name: text_field(form, name) for name in ("day", "start", "end", "capacity")}
    district = _district(text_field(form, "district"))
    try:
        day: date | None = date.fromisoformat(fields["day"])
    except ValueError:
        day = None
    start, end = _time(fields["start"]), _time(fields["end"])
    problem = None
    if day is None or start is None or end is None:
        problem = "请填写日期、开始时间和结束时间。"
    elif day < clock.today():
        problem = "日期不能早于今天。"
    elif not fields["capacity"].isdigit() or int(fields["capacity"]) < 1:
        problem = "容量至少为 1。"
    elif end <= start:
        problem = "结束时间须晚于开始时间。"
    if problem is None and day is not None and start is not None and end is not None:
        try:
            async with transaction(request.app[SESSIONS]) as session:
                await bookings.add_slot(session, district=district, day=day, start=start, end=end,
                                        capacity=int(fields["capacity"]), actor=who.actor)
        except bookings.SlotExists:
            problem = "这个区域在该日期、该开始时间已经有时段了，请直接修改它的容量。"
        except ValueError:
            problem = "结束时间须晚于开始时间，容量至少为 1。"
    if problem is not None:
        return await _page(request, who, district, error=problem, form=fields, status=400)
    raise see_other(_location(district), "slot_added")
