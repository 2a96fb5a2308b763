"""Care workers and the qualification rules checked when a visit is assigned (DOMAIN.md)."""
from __future__ import annotations

from functools import lru_cache

import yaml
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.config import catalogue, data_file, hospital_config
from backend.identity import normalize_phone
from backend.models import Booking, CareWorker

ROLES = ("nurse", "doctor", "therapist", "pharmacist")


class Rule(BaseModel):
    min_years: int
    titles: list[str]
    min_title: str
    titles_en: dict[str, str] = {}


class NotQualified(ValueError):
    """Why a worker may not take a visit, in words a nurse manager understands."""


@lru_cache(maxsize=1)
def rules() -> dict[str, Rule]:
    raw = yaml.safe_load(data_file("qualifications.yaml").read_text("utf-8"))
    return {role: Rule.model_validate(rule) for role, rule in raw.items()}


def title_label(title: str, lang: str) -> str:
    """A professional title as a family reads it: 主管护师, or "nurse-in-charge" in English
    (the reviewed glossary in qualifications.yaml; a title it lacks stays as written)."""
    if lang == "zh":
        return title
    return next((rule.titles_en[title] for rule in rules().values() if title in rule.titles_en), title)


def qualification_problems(worker: CareWorker) -> list[str]:
    """What keeps a worker from home visits at all (years of practice, title)."""
    rule = rules().get(worker.role)
    if rule is None:
        return [f"unknown role {worker.role}"]
    problems = []
    if worker.years_of_practice < rule.min_years:
        problems.append(f"{worker.role} needs at least {rule.min_years} years of practice "
                        f"({worker.years_of_practice})")
    if worker.title not in rule.titles:
        problems.append(f"title {worker.title} is not a {worker.role} title ({', '.join(rule.titles)})")
    elif rule.titles.index(worker.title) < rule.titles.index(rule.min_title):
        problems.append(f"title {worker.title} is below {rule.min_title}")
    return problems


def check_assignment(worker: CareWorker, booking: Booking) -> None:
    """Raise ``NotQualified`` unless the worker may take this visit."""
    problems = [] if worker.active else ["not active"]
    problems += qualification_problems(worker)
    items = catalogue()
    needed = {items.get(code).staff_role for code in booking.service_codes if items.get(code)}  # type: ignore[union-attr]
    if needed - {worker.role}:
        problems.append(f"the services need a {' and '.join(sorted(needed))}, not a {worker.role}")
    if booking.district not in worker.districts:
        problems.append(f"does not serve {booking.district}")
    if problems:
        raise NotQualified("; ".join(problems))


class WorkerRefused(ValueError):
    """A care worker's details that cannot be saved; ``problem`` names which (role, districts,
    phone, registration) so the API and the console can each say it in their words."""

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem


async def _checked(session: AsyncSession, worker_id: int | None, *, role: str, registration_no: str,
                   districts: list[str], phone: str | None) -> tuple[list[str], str | None]:
    """The districts (each once, all served) and the phone normalised; refused otherwise."""
    if role not in ROLES:
        raise WorkerRefused("role", f"role must be one of {', '.join(ROLES)}")
    served = {d.name for d in hospital_config().service_area.districts}
    unknown = [d for d in districts if d not in served]
    if unknown or not districts:
        raise WorkerRefused("districts", f"districts not served: {', '.join(unknown) or 'none given'}; "
                                         f"served: {', '.join(sorted(served))}")
    if phone:
        normal = normalize_phone(phone)
        if normal is None:
            raise WorkerRefused("phone", "phone must be a mainland mobile or a landline with area code")
        phone = normal
    taken = (await session.execute(select(CareWorker.id).where(
        CareWorker.registration_no == registration_no, CareWorker.id != (worker_id or 0)))).first()
    if taken is not None:
        raise WorkerRefused("registration", f"registration number {registration_no} is already registered")
    return list(dict.fromkeys(districts)), phone or None


async def add_worker(session: AsyncSession, *, name: str, role: str, title: str, years_of_practice: int,
                     registration_no: str, districts: list[str], phone: str | None, actor: str) -> CareWorker:
    """Register a care worker; one who does not qualify is kept but never assigned."""
    districts, phone = await _checked(session, None, role=role, registration_no=registration_no,
                                      districts=districts, phone=phone)
    worker = CareWorker(name=name, role=role, title=title, years_of_practice=years_of_practice,
                        registration_no=registration_no, districts=districts, phone=phone)
    session.add(worker)
    await session.flush()
    await audit.record(session, actor, "care_worker.created", f"care_worker:{worker.id}",
                       {"role": role, "title": title, "years": years_of_practice})
    return worker


async def update_worker(session: AsyncSession, worker_id: int, *, actor: str, name: str | None = None,
                        role: str | None = None, title: str | None = None, years_of_practice: int | None = None,
                        registration_no: str | None = None, districts: list[str] | None = None,
                        phone: str | None = None, active: bool | None = None) -> CareWorker:
    """Change a care worker's details, or deactivate (no more assignments) and reactivate them;
    what is not given stays. Raises ``NoResultFound`` for an unknown worker."""
    worker = await session.get_one(CareWorker, worker_id)
    checked_districts, checked_phone = await _checked(
        session, worker.id, role=role or worker.role, registration_no=registration_no or worker.registration_no,
        districts=districts if districts is not None else worker.districts,
        phone=phone if phone is not None else worker.phone)
    after: dict[str, object] = {
        "name": name or worker.name, "role": role or worker.role, "title": title or worker.title,
        "years_of_practice": worker.years_of_practice if years_of_practice is None else years_of_practice,
        "registration_no": registration_no or worker.registration_no, "districts": checked_districts,
        "phone": checked_phone, "active": worker.active if active is None else active}
    changed = sorted(field for field, value in after.items() if getattr(worker, field) != value)
    for field in changed:
        setattr(worker, field, after[field])
    if changed:
        action = "care_worker.updated"
        if changed == ["active"]:
            action = "care_worker.activated" if worker.active else "care_worker.deactivated"
        await audit.record(session, actor, action, f"care_worker:{worker.id}", {"changed": changed})
    return worker


async def qualified_workers(session: AsyncSession, booking: Booking) -> list[CareWorker]:
    workers = (await session.execute(select(CareWorker).where(CareWorker.active.is_(True))
                                     .order_by(CareWorker.name))).scalars()
    fit = []
    for worker in workers:
        try:
            check_assignment(worker, booking)
        except NotQualified:
            continue
        fit.append(worker)
    return fit
