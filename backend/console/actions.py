"""Console forms that do what an API route does, through that route: its permission, its body
model, its handler and its refusals, with a session's CSRF-checked form instead of JSON and the
refusals in the console's words. Each staff operation is written once, in ``backend/api``."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import BaseModel

from backend.api.errors import ApiError
from backend.api.routing import Handler, perform, route_of, validated_body
from backend.console import labels
from backend.console.guard import Form, staff_form
from backend.web.auth import Principal

# A refusal's problem (backend.api.routing.perform, the handlers) in the console's words.
REFUSALS = {
    "slot_full": "这个时段刚刚约满了，请选择其他时段。",
    "slot_elsewhere": "这个时段不在预约所在的区域。",
    "slot_past": "只能改到明天及以后的时段。",
    "slot_same": "预约已经在这个时段了。",
    "not_qualified": "该人员不符合派单条件，未指派：",
    "not_found": "没有找到要操作的对象，请刷新后再试。",
    "conflict": "当前的状态不允许这个操作，请刷新后再试。",
}
BY_STATUS = {400: "填写的内容不完整或有误。", 404: REFUSALS["not_found"], 409: REFUSALS["conflict"]}


class Refused(Exception):
    """An operation the route refused, worded for the console, with its HTTP status."""

    def __init__(self, status: int, message: str, reasons: list[str] | None = None,
                 who: Principal | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.reasons, self.who = status, message, reasons or [], who


async def act(request: web.Request, handler: Handler, *,
              args: Callable[[], Awaitable[dict[str, str]]] | None = None,
              fields: Callable[[Form], dict[str, object]] | None = None,
              before: Callable[[Principal, Form], None] | None = None) -> tuple[Principal, BaseModel]:
    """Perform the API route of ``handler`` for the member of staff sending this form.
    ``args`` finds the route's path parameters once the sender is known to be allowed (the
    console names things by row id, the API by number); ``fields`` turns the form into the
    route's body; ``before`` may refuse early (``Refused``)."""
    spec = route_of(handler)
    who, form = await staff_form(request, spec.scope)
    path_args = await args() if args else None
    try:
        if before is not None:
            before(who, form)
        body = validated_body(spec, fields(form) if fields else {})
        result = await perform(spec, request, who, body, args=path_args)
    except ApiError as error:
        raise _worded(error, who) from None
    except Refused as refused:
        refused.who = who
        raise
    assert isinstance(result, BaseModel)
    return who, result


def _worded(error: ApiError, who: Principal) -> Refused:
    reasons = error.details.get("reasons")
    if error.problem == "not_qualified" and reasons:
        return Refused(error.status, REFUSALS["not_qualified"],
                       labels.qualification_reasons("; ".join(reasons)), who)
    message = REFUSALS.get(error.problem or "") or BY_STATUS.get(error.status, REFUSALS["conflict"])
    return Refused(error.status, message, who=who)
