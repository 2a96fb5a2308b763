"""护理人员: who may visit homes, their qualification problems, adding a worker."""
from __future__ import annotations

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from backend import care
from backend.config import hospital_config
from backend.console import labels, reads
from backend.console.guard import staff, staff_form, text_field
from backend.console.pages import render, see_other
from backend.db import transaction
from backend.web.auth import SESSIONS, Principal


async def _page(request: web.Request, who: Principal, *, error: str | None = None,
                form: dict[str, object] | None = None, status: int = 200) -> web.Response:
    async with transaction(request.app[SESSIONS]) as session:
        rows = [(worker, [labels.qualification_reason(p) for p in care.qualification_problems(worker)])
                for worker in await reads.workers(session)]
    return render(request, who, "workers.html.j2", http_status=status, rows=rows, error=error,
                  form=form or {}, rules=care.rules(),
                  districts=[d.name for d in hospital_config().service_area.districts])


async def worker_list(request: web.Request) -> web.Response:
    who = await staff(request, "care_workers:read")
    return await _page(request, who)


async def add(request: web.Request) -> web.Response:
    who, form = await staff_form(request, "care_workers:write")
    fields = {name: text_field(form, name) for name in ("name", "role", "title", "years", "registration_no",
                                                       "phone")}
    districts = [d for d in form.getall("districts", []) if isinstance(d, str)]
    problem = None
    if not fields["name"] or not fields["registration_no"] or not fields["title"]:
        problem = "请填写姓名、职称和执业证书编号。"
    elif fields["role"] not in care.ROLES:
        problem = "请选择岗位。"
    elif not fields["years"].isdigit():
        problem = "执业年限请填写整数。"
    elif not districts:
        problem = "请至少选择一个服务区域。"
    if problem is None:
        try:
            async with transaction(request.app[SESSIONS]) as session:
                await care.add_worker(session, name=fields["name"], role=fields["role"], title=fields["title"],
                                      years_of_practice=int(fields["years"]),
                                      registration_no=fields["registration_no"], districts=districts,
                                      phone=fields["phone"] or None, actor=who.actor)
        except IntegrityError:
            problem = "这个执业证书编号已经登记过了。"
    if problem is not None:
        return await _page(request, who, error=problem, form={**fields, "districts": districts}, status=400)
    raise see_other("/console/workers", "worker_added")
