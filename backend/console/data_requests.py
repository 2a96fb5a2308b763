"""个人信息申请: families' requests to see or delete their personal data (PIPL), soonest due first;
a deletion is carried out by ``backend.privacy.erase`` after a confirmation on the page."""
from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, privacy
from backend.console.guard import staff, staff_form, text_field
from backend.console.pages import render, see_other
from backend.db import transaction
from backend.models import AuditEntry, Booking, ChannelUser, DataRequest, Intake
from backend.web.auth import SESSIONS, Principal


@dataclass
class Outcome:
    """What a carried-out deletion removed and what it kept (from its audit entry and the intakes)."""

    deleted_uploads: int = 0
    deleted_patients: int = 0
    retained: list[tuple[int, list[str]]] = field(default_factory=list)  # (intake id, booking numbers)


async def _outcome(session: AsyncSession, request: DataRequest) -> Outcome | None:
    entry = (await session.execute(select(AuditEntry).where(
        AuditEntry.action == "data_request.erased", AuditEntry.subject == f"data_request:{request.id}")
        .order_by(AuditEntry.id.desc()).limit(1))).scalar_one_or_none()
    if entry is None:
        return None
    details = entry.details or {}
    outcome = Outcome(int(details.get("uploads", 0)), int(details.get("patients", 0)))
    intake_ids = [int(i) for i in details.get("retained", [])]
    if intake_ids:
        kept = (await session.execute(select(Intake.id).where(
            Intake.id.in_(intake_ids), Intake.retained_reason.is_not(None)))).scalars().all()
        numbers: dict[int, list[str]] = {}
        for intake_id, number in (await session.execute(select(Booking.intake_id, Booking.number).where(
                Booking.intake_id.in_(intake_ids)).order_by(Booking.id))).all():
            numbers.setdefault(intake_id, []).append(number)
        outcome.retained = [(i, numbers.get(i, [])) for i in intake_ids if i in kept]
    return outcome


async def request_list(request: web.Request) -> web.Response:
    who = await staff(request, "data_requests:read")
    async with transaction(request.app[SESSIONS]) as session:
        rows = list((await session.execute(
            select(DataRequest, ChannelUser).join(ChannelUser, ChannelUser.id == DataRequest.channel_user_id)
            .order_by(DataRequest.status != "open", DataRequest.due_at, DataRequest.id))).all())
        if rows:
            await audit.record(session, who.actor, "pii.data_requests_listed", "data_requests", {"rows": len(rows)})
    return render(request, who, "data_requests.html.j2", rows=rows)


async def _page(request: web.Request, who: Principal, request_id: int, *, error: str | None = None,
                status: int = 200) -> web.Response:
    """The request with what the service holds about the family (masked), and for an open
    deletion the confirmation form; for a carried-out one, what was deleted and kept."""
    async with transaction(request.app[SESSIONS]) as session:
        found = await session.get(DataRequest, request_id)
        if found is None:
            raise web.HTTPNotFound(text="没有这个申请")
        user = await session.get_one(ChannelUser, found.channel_user_id)
        held = await privacy.summary(session, found.channel_user_id)
        outcome = await _outcome(session, found) if found.kind == "delete" else None
        await audit.record(session, who.actor, "pii.data_request_viewed", f"data_request:{found.id}",
                           {"channel_user": found.channel_user_id})
    return render(request, who, "data_request.html.j2", http_status=status, req=found, user=user, held=held,
                  outcome=outcome, error=error)


async def request_page(request: web.Request) -> web.Response:
    who = await staff(request, "data_requests:read")
    return await _page(request, who, int(request.match_info["request_id"]))


async def erase(request: web.Request) -> web.Response:
    """执行删除: only an open deletion request, only after the confirmation box is ticked."""
    who, form = await staff_form(request, "data_requests:write")
    request_id = int(request.match_info["request_id"])
    if text_field(form, "confirm") != "yes":
        return await _page(request, who, request_id, error="请先勾选确认，再执行删除。", status=400)
    try:
        async with transaction(request.app[SESSIONS]) as session:
            found = await session.get(DataRequest, request_id, with_for_update=True)
            if found is None:
                raise web.HTTPNotFound(text="没有这个申请")
            if found.kind != "delete":
                raise web.HTTPBadRequest(text="这是查看申请，不能执行删除")
            if found.status != "open":
                raise privacy.AlreadyAnswered(f"request {found.id} is already {found.status}")
            await privacy.erase(session, found, who.actor)
    except privacy.AlreadyAnswered:
        return await _page(request, who, request_id, status=409,
                           error="这个申请已经处理完毕，个人信息已按申请删除，不能再次执行。")
    raise see_other(f"/console/data-requests/{request_id}", "erased")
