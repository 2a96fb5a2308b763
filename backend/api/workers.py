"""Care workers (nurses, doctors, therapists, pharmacists) with what keeps each from home visits
(DOMAIN.md: staff qualifications)."""
from __future__ import annotations

from sqlalchemy import select

from backend.care import add_worker, qualification_problems
from backend.config import hospital_config
from backend.identity import normalize_phone
from backend.models import CareWorker
from backend.web.auth import Principal

from .errors import ApiError
from .privacy import phone_for
from .routing import Call, route
from .schemas import CareWorkerList, CareWorkerOut, NewCareWorker


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
    served = {d.name for d in hospital_config().service_area.districts}
    unknown = [d for d in new.districts if d not in served]
    if unknown:
        raise ApiError(400, f"districts not served: {', '.join(unknown)}; served: {', '.join(sorted(served))}")
    phone = None
    if new.phone is not None:
        phone = normalize_phone(new.phone)
        if phone is None:
            raise ApiError(400, "phone must be a mainland mobile or a landline with area code")
    taken = (await call.session.execute(select(CareWorker.id).where(
        CareWorker.registration_no == new.registration_no))).first()
    if taken is not None:
        raise ApiError(409, f"registration number {new.registration_no} is already registered")
    worker = await add_worker(call.session, name=new.name, role=new.role, title=new.title,
                              years_of_practice=new.years_of_practice, registration_no=new.registration_no,
                              districts=list(dict.fromkeys(new.districts)), phone=phone, actor=call.actor)
    return worker_out(call.who, worker)
