"""预约管理: review bookings, confirm, reject or cancel, assign a qualified nurse, reschedule, fetch the consent."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import NoResultFound

from backend import bookings, care, queries
from backend.api import bookings as api
from backend.api.routing import Handler
from backend.config import hospital_config
from backend.console import actions, labels, reads
from backend.console.guard import Form, staff, text_field
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
        names = await reads.staff_names(session, {e.actor for e in found.events})
        actors = {e.actor: labels.actor_words(e.actor, names) for e in found.events}
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
                  others=others, slots=slots, error=error, actors=actors, reasons=reasons or [], assessment=assessment,
                  intake_uploads=intake_uploads if who.can("uploads:read") else [])


async def booking_page(request: web.Request) -> web.Response:
    who = await staff(request, "bookings:read")
    return await _page(request, who, int(request.match_info["booking_id"]))


def _reason(form: Form) -> dict[str, object]:
    return {"reason": text_field(form, "reason")}


def _id(name: str, field_name: str) -> Callable[[Form], dict[str, object]]:
    def fields(form: Form) -> dict[str, object]:
        value = text_field(form, field_name)
        return {name: int(value) if value.isdigit() else value}
    return fields


# What each button of the booking page does: the API route, the form's fields as its body, and
# the console's own word when something is missing (the family reads a reason).
ACTIONS: dict[str, tuple[Handler, Callable[[Form], dict[str, object]] | None, str, str | None]] = {
    "confirm": (api.confirm, None, "", None),
    "reject": (api.reject, _reason, "reason", "请填写退回原因，家属会看到它。"),
    "cancel": (api.cancel, _reason, "reason", "请填写取消原因，家属会看到它。"),
    "assign": (api.assign, _id("care_worker_id", "worker_id"), "worker_id", "请选择一位护理人员。"),
    "reschedule": (api.reschedule, _id("slot_id", "slot_id"), "slot_id", "请选择新的时段。"),
}
DONE = {"confirm": "confirmed", "reject": "rejected", "cancel": "cancelled", "assign": "assigned",
        "reschedule": "rescheduled"}


async def change(request: web.Request) -> web.Response:
    """Confirm, reject or cancel (with a reason), assign or reschedule, through the API's routes;
    a refusal is shown on the page."""
    booking_id = int(request.match_info["booking_id"])
    action = text_field(await request.post(), "action")
    if action not in ACTIONS:
        raise web.HTTPBadRequest(text="unknown action")
    handler, fields, needed, missing = ACTIONS[action]

    def before(who: Principal, form: Form) -> None:
        if needed and not text_field(form, needed):
            raise actions.Refused(400, missing or "")

    async def number() -> dict[str, str]:
        async with transaction(request.app[SESSIONS]) as session:
            found = (await session.execute(select(Booking.number).where(Booking.id == booking_id))).scalar_one_or_none()
        if found is None:
            raise web.HTTPNotFound(text="没有这个预约")
        return {"number": found}

    try:
        await actions.act(request, handler, args=number, fields=fields, before=before)
    except actions.Refused as refused:
        assert refused.who is not None
        return await _page(request, refused.who, booking_id, error=refused.message, reasons=refused.reasons,
                           status=refused.status)
    raise see_other(f"/console/bookings/{booking_id}", DONE[action])


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
