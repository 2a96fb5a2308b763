"""Workload statistics (工作量统计分析), the intake funnel and the audit log's integrity check (全程留痕)."""
from __future__ import annotations

from datetime import date, timedelta

from backend import audit, clock, funnel
from backend.queries import workload

from .errors import ApiError
from .routing import Call, route
from .schemas import AuditVerdict, Funnel, FunnelWeek, Stats, StatsRange

DEFAULT_DAYS = 30
MAX_DAYS = 366


def _range(query: StatsRange, default_days: int) -> tuple[date, date]:
    until = query.until or clock.today()
    since = query.since or until - timedelta(days=default_days)
    if since > until:
        raise ApiError(400, "since must not be after until")
    if (until - since).days > MAX_DAYS:
        raise ApiError(400, f"the range must not be longer than {MAX_DAYS} days")
    return since, until


@route("GET", "/api/stats", scope="stats:read", tag="oversight", query=StatsRange, answer=Stats, errors=(400,))
async def stats(call: Call) -> Stats:
    """Workload between two visit dates (the last 30 days by default, at most a year)."""
    since, until = _range(call.query_as(StatsRange), DEFAULT_DAYS)
    return Stats.model_validate(await workload(call.session, since, until))


@route("GET", "/api/stats/funnel", scope="stats:read", tag="oversight", query=StatsRange, answer=Funnel,
       errors=(400,))
async def intake_funnel(call: Call) -> Funnel:
    """The intake funnel by week (started → privacy → identity → assessment → signed → booked), the
    hand-off rate and the median minutes to the first human answer; the last 8 weeks by default."""
    since, until = _range(call.query_as(StatsRange), funnel.DEFAULT_DAYS)
    weeks = await funnel.by_week(call.session, since, until)
    return Funnel(since=since, until=until, weeks=[FunnelWeek(
        week_start=w.start, **w.stages, drop_off=w.drop_off, stopped_at=dict(w.stopped_at),
        handed_off=w.handed_off, handoff_rate=w.handoff_rate, handoff_requests=w.requests,
        median_first_response_minutes=w.median_first_response,
        satisfaction=dict(w.satisfaction)) for w in weeks])


@route("GET", "/api/audit/verify", scope="audit:read", tag="oversight", answer=AuditVerdict)
async def verify(call: Call) -> AuditVerdict:
    """Recompute the audit log's hash chain: is any entry changed or missing?"""
    verdict = await audit.verify(call.session)
    return AuditVerdict(ok=verdict.ok, entries=verdict.entries, problem=verdict.problem)
