"""护理人员: who may visit homes, their qualification problems; adding a worker, changing one,
deactivating and reactivating (through ``backend.care``, as the API does)."""
from __future__ import annotations

from aiohttp import web
from sqlalchemy.exc import NoResultFound

from backend import care
from backend.config import hospital_config
from backend.console import labels, reads
from backend.console.guard import Form, staff, staff_form, text_field
from backend.console.pages import render, see_other
from backend.db import transaction
from backend.models import CareWorker
from backend.web.auth import SESSIONS, Principal

# What each refusal of backend.care means, in the console's words.
REFUSALS = {"role": "请选择岗位。", "districts": "请选择本院服务的区域。",
            "phone": "手机号格式不对（大陆手机号或带区号的座机）。",
            "registration": "这个执业证书编号已经登记过了。"}


async def _page(request: web.Request, who: Principal, *, error: str | None = None,
                form: dict[str, object] | None = None, status: int = 200) -> web.Response:
    async with transaction(request.app[SESSIONS]) as session:
        rows = [(worker, [labels.qualification_reason(p) for p in care.qualification_problems(worker)])
                for worker in await reads.workers(session)]
    return render(request, who, "workers.html.j2", http_status=status, rows=rows, error=error,
                  form=form or {}, rules=care.rules(), districts=_districts())


def _districts() -> list[str]:
    return [d.name for d in hospital_config().service_area.districts]


def _fields(form: Form) -> tuple[dict[str, object], str | None]:
    """The form's fields, and what is missing or malformed (None when all is well)."""
    fields: dict[str, object] = {name: text_field(form, name) for name in (
        "name", "role", "title", "years", "registration_no", "phone")}
    fields["districts"] = [d for d in form.getall("districts", []) if isinstance(d, str)]
    problem = None
    if not fields["name"] or not fields["registration_no"] or not fields["title"]:
        problem = "请填写姓名、职称和执业证书编号。"
    elif fields["role"] not in care.ROLES:
        problem = "请选择岗位。"
    elif not str(fields["years"]).isdigit():
        problem = "执业年限请填写整数。"
    elif not fields["districts"]:
        problem = "请至少选择一个服务区域。"
    return fields, problem


def _details(fields: dict[str, object]) -> dict[str, object]:
    return {"name": fields["name"], "role": fields["role"], "title": fields["title"],
            "years_of_practice": int(str(fields["years"])), "registration_no": fields["registration_no"],
            "districts": fields["districts"], "phone": fields["phone"]}


async def worker_list(request: web.Request) -> web.Response:
    who = await staff(request, "care_workers:read")
    return await _page(request, who)


async def add(request: web.Request) -> web.Response:
    who, form = await staff_form(request, "care_workers:write")
    fields, problem = _fields(form)
    if problem is None:
        try:
            async with transaction(request.app[SESSIONS]) as session:
                await care.add_worker(session, actor=who.actor, **_details(fields))  # type: ignore[arg-type]
        except care.WorkerRefused as refused:
            problem = REFUSALS.get(refused.problem, str(refused))
    if problem is not None:
        return await _page(request, who, error=problem, form=fields, status=400)
    raise see_other("/console/workers", "worker_added")


async def _worker_page(request: web.Request, who: Principal, worker: CareWorker, *, error: str | None = None,
                       form: dict[str, object] | None = None, status: int = 200) -> web.Response:
    shown = form or {"name": worker.name, "role": worker.role, "title": worker.title,
                     "years": worker.years_of_practice, "registration_no": worker.registration_no,
                     "phone": worker.phone or "", "districts": worker.districts}
    return render(request, who, "worker.html.j2", http_status=status, worker=worker, error=error, form=shown,
                  rules=care.rules(), districts=_districts())


async def _worker(request: web.Request) -> CareWorker:
    async with transaction(request.app[SESSIONS]) as session:
        worker = await session.get(CareWorker, int(request.match_info["worker_id"]))
    if worker is None:
        raise web.HTTPNotFound(text="没有这位护理人员")
    return worker


async def worker_page(request: web.Request) -> web.Response:
    who = await staff(request, "care_workers:write")
    return await _worker_page(request, who, await _worker(request))


async def change(request: web.Request) -> web.Response:
    """保存修改: a worker's details changed; refusals are shown on the form."""
    who, form = await staff_form(request, "care_workers:write")
    worker = await _worker(request)
    fields, problem = _fields(form)
    if problem is None:
        try:
            async with transaction(request.app[SESSIONS]) as session:
                await care.update_worker(session, worker.id, actor=who.actor, **_details(fields))  # type: ignore[arg-type]
        except care.WorkerRefused as refused:
            problem = REFUSALS.get(refused.problem, str(refused))
    if problem is not None:
        return await _worker_page(request, who, worker, error=problem, form=fields, status=400)
    raise see_other("/console/workers", "worker_changed")


async def set_active(request: web.Request) -> web.Response:
    """停用 / 重新启用 a care worker."""
    who, form = await staff_form(request, "care_workers:write")
    active = text_field(form, "active") == "yes"
    try:
        async with transaction(request.app[SESSIONS]) as session:
            await care.update_worker(session, int(request.match_info["worker_id"]), actor=who.actor, active=active)
    except NoResultFound:
        raise web.HTTPNotFound(text="没有这位护理人员") from None
    raise see_other("/console/workers", "worker_activated" if active else "worker_deactivated")
