"""The route table: each route names its permission, its body and query models and its answer,
so the handler only does the work and /api/openapi.json is built from the same table."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import NoResultFound
from sqlalchemy.ext.asyncio import AsyncSession

from backend.bookings import BadTransition, SlotExists, SlotFull
from backend.care import NotQualified
from backend.db import transaction
from backend.privacy import AlreadyAnswered
from backend.web.auth import SESSIONS, Principal, require

from .errors import ApiError
from .schemas import FieldProblem

M = TypeVar("M", bound=BaseModel)


@dataclass
class Call:
    """One authorised request: who asks, in which transaction, with the validated input."""

    request: web.Request
    who: Principal
    session: AsyncSession
    body: BaseModel | None
    query: BaseModel | None
    args: dict[str, str] = field(default_factory=dict)  # path parameters given by another caller (the console)

    def arg(self, name: str) -> str:
        return self.args[name] if name in self.args else self.request.match_info[name]

    def int_arg(self, name: str) -> int:
        return int(self.arg(name))

    def body_as(self, model: type[M]) -> M:
        assert isinstance(self.body, model)
        return self.body

    def query_as(self, model: type[M]) -> M:
        assert isinstance(self.query, model)
        return self.query

    @property
    def actor(self) -> str:
        return self.who.actor


Handler = Callable[[Call], Awaitable[BaseModel | web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # aiohttp pattern; path parameters may carry a regex: {user_id:\d{1,9}}
    handler: Handler
    scope: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    answer: type[BaseModel] | None = None
    media_type: str | None = None  # for answers that are files, not JSON
    status: int = 200
    errors: tuple[int, ...] = ()

    @property
    def summary(self) -> str:
        return (self.handler.__doc__ or self.handler.__name__).strip().splitlines()[0]


ROUTES: list[Route] = []

# Domain refusals that mean "not in this state" (409) rather than bad input.
CONFLICTS = (BadTransition, SlotFull, SlotExists, NotQualified, AlreadyAnswered)


def route(method: str, path: str, *, scope: str, tag: str, body: type[BaseModel] | None = None,
          query: type[BaseModel] | None = None, answer: type[BaseModel] | None = None,
          media_type: str | None = None, status: int = 200,
          errors: tuple[int, ...] = ()) -> Callable[[Handler], Handler]:
    """Add a handler to the route table."""
    def add(handler: Handler) -> Handler:
        ROUTES.append(Route(method, path, handler, scope, tag, body, query, answer, media_type,
                            status, errors))
        return handler
    return add


def _problems(error: ValidationError, where: str) -> list[FieldProblem]:
    return [FieldProblem(field=".".join(str(part) for part in item["loc"]) or where, problem=item["msg"])
            for item in error.errors(include_url=False, include_input=False, include_context=False)]


def _invalid(error: ValidationError, where: str) -> ApiError:
    problems = _problems(error, where)
    summary = "; ".join(f"{p.field}: {p.problem}" for p in problems)
    return ApiError(400, f"invalid {where}: {summary}",
                    problems=[p.model_dump() for p in problems])


async def _validated(request: web.Request, spec: Route) -> tuple[BaseModel | None, BaseModel | None]:
    query = body = None
    if spec.query is not None:
        try:
            query = spec.query.model_validate({k: request.query.getone(k) for k in request.query})
        except ValidationError as error:
            raise _invalid(error, "query") from None
    if spec.body is not None:
        raw = await request.read()
        try:
            body = spec.body.model_validate_json(raw.strip() or b"{}")
        except ValidationError as error:
            raise _invalid(error, "body") from None
    return query, body


def route_of(handler: Handler) -> Route:
    """The route a handler serves (the console performs API routes through it)."""
    return next(spec for spec in ROUTES if spec.handler is handler)


def validated_body(spec: Route, fields: dict[str, object]) -> BaseModel | None:
    """A body for the route from fields that did not come as JSON (a console form); 400 if invalid."""
    if spec.body is None:
        return None
    try:
        return spec.body.model_validate(fields)
    except ValidationError as error:
        raise _invalid(error, "body") from None


async def perform(spec: Route, request: web.Request, who: Principal, body: BaseModel | None,
                  query: BaseModel | None = None, args: dict[str, str] | None = None) -> BaseModel | web.StreamResponse:
    """Run a route's handler in one transaction; domain refusals become ``ApiError``s naming
    the problem (409 for a state conflict, 404 for something missing)."""
    try:
        async with transaction(request.app[SESSIONS]) as session:
            return await spec.handler(Call(request, who, session, body, query, args or {}))
    except NotQualified as error:
        raise ApiError(409, f"not qualified: {error}", problem="not_qualified",
                       reasons=str(error).split("; ")) from None
    except SlotFull:
        raise ApiError(409, "that slot is full; choose another", problem="slot_full") from None
    except CONFLICTS as error:
        raise ApiError(409, str(error) or "the change conflicts with the current state", problem="conflict") from None
    except NoResultFound:
        raise ApiError(404, "not found", problem="not_found") from None


def view(spec: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler of a route: permission, validation, one transaction, the answer."""
    async def handle(request: web.Request) -> web.StreamResponse:
        who = await require(request, spec.scope)  # before our transaction: SQLite has one writer
        query, body = await _validated(request, spec)
        result = await perform(spec, request, who, body, query)
        if isinstance(result, web.StreamResponse):
            return result
        return web.Response(status=spec.status, text=result.model_dump_json(),
                            content_type="application/json")
    handle.__name__ = spec.handler.__name__
    handle.__doc__ = spec.handler.__doc__
    return handle


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found", problem="not_found")
