"""Personal-data requests from families (PIPL): the open list, and carrying out a deletion."""
from __future__ import annotations

from sqlalchemy import select

from backend import privacy
from backend.models import DataRequest

from .routing import Call, not_found, route
from .schemas import DataRequestList, DataRequestOut, ErasureOut

REQUEST = "{request_id:\\d{1,9}}"


def _out(request: DataRequest) -> DataRequestOut:
    return DataRequestOut(id=request.id, channel_user_id=request.channel_user_id, kind=request.kind,
                          status=request.status, due_at=request.due_at, created_at=request.created_at,
                          answered_at=request.answered_at, answered_by=request.answered_by)


@route("GET", "/api/data-requests", scope="data_requests:read", tag="privacy", answer=DataRequestList)
async def list_requests(call: Call) -> DataRequestList:
    """Requests to see or delete personal data, the open ones first, soonest due first."""
    rows = (await call.session.execute(select(DataRequest).order_by(
        (DataRequest.status != "open"), DataRequest.due_at))).scalars()
    return DataRequestList(data_requests=[_out(r) for r in rows])


@route("POST", f"/api/data-requests/{REQUEST}/erase", scope="data_requests:write", tag="privacy",
       answer=ErasureOut, errors=(404, 409))
async def erase(call: Call) -> ErasureOut:
    """Delete the family's personal data, keeping (and marking) booked visits' medical records."""
    request = await call.session.get(DataRequest, call.int_arg("request_id"))
    if request is None or request.kind != "delete":
        raise not_found("deletion request")
    if request.status != "open":
        raise privacy.AlreadyAnswered(f"request {request.id} is already {request.status}")
    report = await privacy.erase(call.session, request, call.actor)
    return ErasureOut(request=_out(request), deleted_uploads=report.deleted_uploads,
                      deleted_patients=report.deleted_patients, retained_intakes=report.retained_intakes)
