"""Care workers and the qualification rules checked when a visit is assigned (DOMAIN.md)."""
from __future__ import annotations

from functools import lru_cache

import yaml
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.config import catalogue, data_file
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


async def add_worker(session: AsyncSession, *, name: str, role: str, title: str, years_of_practice: int,
                     registration_no: str, districts: list[str], phone: str | None, actor: str) -> CareWorker:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    worker = CareWorker(name=name, role=role, title=title, years_of_practice=years_of_practice,
                        registration_no=registration_no, districts=districts, phone=phone)
    session.add(worker)
    await session.flush()
    await audit.record(session, actor, "care_worker.created", f"care_worker:{worker.id}",
                       {"role": role, "title": title, "years": years_of_practice})
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
