"""预约管理: review bookings, confirm or reject, assign a qualified nurse, reschedule, fetch the consent."""
from __future__ import annotations

from datetime import date
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.exc import NoResultFound

from backend import bookings, care, queries
from backend.config import hospital_config
from backend.console import labels, reads
from backend.console.guard import staff, staff_form, text_field
from backend.console.pages import HEADERS, render, see_other
from backend.db import transaction
from backend.models import Booking, CareWorker, Slot
from backend.web.auth import SESSIONS, Principal


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def booking_list(request: web.Request) -> web.Response:
    who = await staff(request, "bookings:read")
    status = request.query.get("status", "")
    district = request.query.get("district", "")
    day = _day(request.query.get("day", ""))
    async with transaction(request.app[SESSIONS]) as session:
        rows = await queries.list_bookings(session, status=status or None, district=district or None, day=day)
        if rows:
            await reads.record_listing(session, who.actor, "bookings", len(rows))
    districts = [d.name for d in hospital_config().service_area.districts]
    return render(request, who, "bookings.html.j2", rows=rows, status=status, district=district,
                  day=day.isoformat() if day else "", districts=districts)


async def _page(request: web.Request, who: Principal, booking_id: int, *, error: str | None = None,
                reasons: list[str] | None = None, status: int = 200) -> web.Response:
    """The booking's page; the nurse manager sees the qualified workers first and, for the
    others, why they may not take this visit (DOMAIN.md: staff qualifications)."""
    async with transaction(request.app[SESSIONS]) as session:
        found = await reads.booking_file(session, booking_id, who.actor)
        if found is None:
            raise web.HTTPNotFound(text="没有这个预约")
        assessment = await queries.assessment_of_intake(session, found.booking.intake_id)
        intake_uploads = await queries.uploads_of_intake(session, found.booking.intake_id)
        qualified: list[CareWorker] = []
        others: list[tuple[CareWorker, list[str]]] = []
        slots: list[Slot] = []
        if who.can("bookings:write") and found.booking.status in bookings.ACTIVE_STATES:
            qualified = await care.qualified_workers(session, found.booking)
            fit = {worker.id for worker in qualified}
            for worker in await reads.workers(session):
                if worker.id in fit or not worker.active:
                    continue
                try:
                    care.check_assignment(worker, found.booking)
                except care.NotQualified as problem:
                    others.append((worker, labels.qualification_reasons(str(problem))))
            slots = await bookings.open_slots(session, hospital_config(), found.booking.district, limit=12)
    return render(request, who, "booking.html.j2", http_status=status, file=found, qualified=qualified,
                  others=others, slots=slots, error=error, reasons=reasons or [], assessment=assessment,
                  intake_uploads=intake_uploads if who.can("uploads:read") else [])


async def booking_page(request: web.Request) -> web.Response:
    who = await staff(request, "bookings:read")
    return await _page(request, who, int(request.match_info["booking_id"]))


async def change(request: web.Request) -> web.Response:
    """Confirm, reject (with a reason), assign or reschedule; a refusal is shown on the page."""
    who, form = await staff_form(request, "bookings:write")
    booking_id = int(request.match_info["booking_id"])
    action = text_field(form, "action")
    reason = text_field(form, "reason")
    worker_id = int(text_field(form, "worker_id") or 0)
    slot_id = int(text_field(form, "slot_id") or 0)
    if action == "reject" and not reason:
        return await _page(request, who, booking_id, error="请填写退回原因，家属会看到它。", status=400)
    if action == "assign" and not worker_id:
        return await _page(request, who, booking_id, error="请选择一位护理人员。", status=400)
    done = ""
    try:
        async with transaction(request.app[SESSIONS]) as session:
            booking = await session.get(Booking, booking_id)
            if booking is None:
                raise web.HTTPNotFound(text="没有这个预约")
            if action == "confirm":
                await bookings.change_status(session, booking, "confirmed", who.actor)
                done = "confirmed"
            elif action == "reject":
                await bookings.change_status(session, booking, "rejected", who.actor, note=reason)
                done = "rejected"
            elif action == "assign":
                worker = await session.get_one(CareWorker, worker_id)
                await bookings.assign(session, booking, worker, who.actor)
                done = "assigned"
            elif action == "reschedule":
                await bookings.reschedule(session, booking, slot_id, who.actor)
                done = "rescheduled"
            else:
                raise web.HTTPBadRequest(text="unknown action")
    except care.NotQualified as problem:
        return await _page(request, who, booking_id, error="该人员不符合派单条件，未指派：",
                           reasons=labels.qualification_reasons(str(problem)), status=409)
    except NoResultFound:
        return await _page(request, who, booking_id, error="没有这位护理人员。", status=404)
    except bookings.BadTransition:
        return await _page(request, who, booking_id, error="预约当前的状态不允许这个操作，请刷新后再试。",
                           status=409)
    except bookings.SlotFull:
        return await _page(request, who, booking_id, error="这个时段刚刚约满了，请选择其他时段。", status=409)
    raise see_other(f"/console/bookings/{booking_id}", done)


async def consent_pdf(request: web.Request) -> web.Response:
    """The sealed consent PDF, decrypted for this download and recorded."""
    who = await staff(request, "consents:read")
    document_id = request.match_info["document_id"]
    async with transaction(request.app[SESSIONS]) as session:
        try:
            _, data = await queries.open_consent_pdf(session, document_id, who.actor)
        except (NoResultFound, LookupError, FileNotFoundError) as error:
            raise web.HTTPNotFound(text="知情同意书尚未生成") from error
    name = f"知情同意书-{document_id}.pdf"
    return web.Response(body=data, content_type="application/pdf", headers={
        **HEADERS, "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
