"""The visit as the visiting staff's app reports it (arrived, finished, alarm), and the alerts
nurse managers watch: overdue visits (延时预警) and open alarms (一键报警)."""
from __future__ import annotations

from sqlalchemy import select

from backend import visits
from backend.models import Booking

from .bookings import NUMBER, _workers, booking_or_404
from .routing import Call, route
from .schemas import (
    AlarmBody,
    AlarmHandled,
    AlarmHandledBody,
    AlarmOut,
    Alerts,
    ArrivedBody,
    OverdueVisit,
    VisitReported,
)


async def _reported(call: Call, kind: str, **fields: object) -> VisitReported:
    booking = await booking_or_404(call)
    entry = await visits.report(call.session, booking, kind, call.actor, **fields)  # type: ignore[arg-type]
    return VisitReported(number=booking.number, kind=kind, booking_status=booking.status,  # type: ignore[arg-type]
                         at=entry.created_at)


@route("POST", f"/api/visits/{NUMBER}/arrived", scope="visits:write", tag="visits", body=ArrivedBody,
       answer=VisitReported, errors=(400, 404, 409))
async def arrived(call: Call) -> VisitReported:
    """The visiting staff arrived (with their position); the family is told."""
    body = call.body_as(ArrivedBody)
    return await _reported(call, "arrived", latitude=body.latitude, longitude=body.longitude)


@route("POST", f"/api/visits/{NUMBER}/finished", scope="visits:write", tag="visits",
       answer=VisitReported, errors=(404, 409))
async def finished(call: Call) -> VisitReported:
    """The visit is over: the booking is completed and the family asked for a rating."""
    return await _reported(call, "finished")


@route("POST", f"/api/visits/{NUMBER}/alarm", scope="visits:write", tag="visits", body=AlarmBody,
       answer=VisitReported, errors=(400, 404, 409))
async def alarm(call: Call) -> VisitReported:
    """The visiting staff raise an alarm (一键报警) with an optional note."""
    return await _reported(call, "alarm", note=call.body_as(AlarmBody).note)


@route("GET", "/api/alerts", scope="visits:write", tag="visits", answer=Alerts)
async def alerts(call: Call) -> Alerts:
    """Visits running past their window without "finished", and alarms not yet handled."""
    late = await visits.overdue(call.session)
    alarms = await visits.open_alarms(call.session)
    nurses = await _workers(call, {b.nurse_id for b, _ in late})
    numbers = dict((await call.session.execute(select(Booking.id, Booking.number).where(
        Booking.id.in_({a.booking_id for a in alarms})))).all())
    return Alerts(
        overdue=[OverdueVisit(number=b.number, district=b.district, date=s.day, end=s.end,
                              nurse=nurses.get(b.nurse_id or 0), arrived_at=b.arrived_at) for b, s in late],
        alarms=[AlarmOut(id=a.id, number=numbers[a.booking_id], note=a.note, reported_by=a.reported_by,
                         at=a.created_at) for a in alarms])


@route("POST", "/api/alarms/{report_id:\\d{1,9}}/handled", scope="visits:write", tag="visits",
       body=AlarmHandledBody, answer=AlarmHandled, errors=(400, 404, 409))
async def alarm_handled(call: Call) -> AlarmHandled:
    """Staff have dealt with an alarm; it leaves the open list (recorded in the audit log)."""
    report = await visits.handle_alarm(call.session, call.int_arg("report_id"), call.actor,
                                       call.body_as(AlarmHandledBody).note)
    return AlarmHandled(id=report.id, handled_at=report.handled_at)  # type: ignore[arg-type]
