"""Care workers (nurses, doctors, therapists, pharmacists) with what keeps each from home visits
(DOMAIN.md: staff qualifications)."""
from __future__ import annotations

from sqlalchemy import select

from backend.care import WorkerRefused, add_worker, qualification_problems, update_worker
from backend.models import CareWorker
from backend.web.auth import Principal

from .errors import ApiError
from .privacy import phone_for
from .routing import Call, route
from .schemas import CareWorkerChanges, CareWorkerList, CareWorkerOut, NewCareWorker


def worker_out(who: Principal, worker: CareWorker) -> CareWorkerOut:
    return CareWorkerOut(id=worker.id, name=worker.name, role=worker.role, title=worker.title,
                         years_of_practice=worker.years_of_practice, registration_no=worker.registration_no,
                         districts=worker.districts, phone=phone_for(who, worker.phone), active=worker.active,
                         qualification_problems=qualification_problems(worker))


@route("GET", "/api/care-workers", scope="care_workers:read", tag="care workers", answer=CareWorkerList)
async def list_workers(call: Call) -> CareWorkerList:
    """All care workers by name, each with its qualification problems."""
    workers = (await call.session.execute(select(CareWorker).order_by(CareWorker.name, CareWorker.id))).scalars()
    return CareWorkerList(care_workers=[worker_out(call.who, w) for w in workers])


@route("POST", "/api/care-workers", scope="care_workers:write", tag="care workers", body=NewCareWorker,
       answer=CareWorkerOut, status=201, errors=(400, 409))
async def create(call: Call) -> CareWorkerOut:
    """Add a care worker; one who does not qualify is kept but never assigned."""
    new = call.body_as(NewCareWorker)
    try:
        worker = await add_worker(call.session, actor=call.actor, **new.model_dump())
    except WorkerRefused as refused:
        raise _refusal(refused) from None
    return worker_out(call.who, worker)


@route("PATCH", "/api/care-workers/{worker_id:\\d{1,9}}", scope="care_workers:write", tag="care workers",
       body=CareWorkerChanges, answer=CareWorkerOut, errors=(400, 404, 409))
async def change(call: Call) -> CareWorkerOut:
    """Change a care worker's details, or deactivate (``active: false``) and reactivate them."""
    changes = call.body_as(CareWorkerChanges).model_dump(exclude_none=True)
    try:
        worker = await update_worker(call.session, call.int_arg("worker_id"), actor=call.actor, **changes)
    except WorkerRefused as refused:
        raise _refusal(refused) from None
    return worker_out(call.who, worker)


def _refusal(refused: WorkerRefused) -> ApiError:
    return ApiError(409 if refused.problem == "registration" else 400, str(refused))
