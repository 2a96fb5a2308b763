"""Workload statistics (工作量统计分析) and the audit log's integrity check (全程留痕)."""
from __future__ import annotations

from datetime import timedelta

from backend import audit, clock
from backend.queries import workload

from .errors import ApiError
from .routing import Call, route
from .schemas import AuditVerdict, Stats, StatsRange

DEFAULT_DAYS = 30
MAX_DAYS = 366


@route("GET", "/api/stats", scope="stats:read", tag="oversight", query=StatsRange, answer=Stats, errors=(400,))
async def stats(call: Call) -> Stats:
    """Workload between two visit dates (the last 30 days by default, at most a year)."""
    query = call.query_as(StatsRange)
    until = query.until or clock.today()
    since = query.since or until - timedelta(days=DEFAULT_DAYS)
    if since > until:
        raise ApiError(400, "since must not be after until")
    if (until - since).days > MAX_DAYS:
        raise ApiError(400, f"the range must not be longer than {MAX_DAYS} days")
    return Stats.model_validate(await workload(call.session, since, until))


@route("GET", "/api/audit/verify", scope="audit:read", tag="oversight", answer=AuditVerdict)
async def verify(call: Call) -> AuditVerdict:
    """Recompute the audit log's hash chain: is any entry changed or missing?"""
    verdict = await audit.verify(call.session)
    return AuditVerdict(ok=verdict.ok, entries=verdict.entries, problem=verdict.problem)
