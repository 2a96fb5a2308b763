"""统计: workload (DOMAIN.md: 工作量统计分析) as tables and server-drawn bar charts."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from statistics import median

from aiohttp import web

from backend import clock, funnel, queries
from backend.config import questionnaire
from backend.console import charts, labels
from backend.console.guard import staff
from backend.console.pages import render, service_name
from backend.db import transaction
from backend.web.auth import SESSIONS


def _day(value: str, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


async def statistics(request: web.Request) -> web.Response:
    who = await staff(request, "stats:read")
    today = clock.today()
    since = _day(request.query.get("since", ""), today - timedelta(days=30))
    until = _day(request.query.get("until", ""), today + timedelta(days=14))
    if until < since:
        since, until = until, since
    async with transaction(request.app[SESSIONS]) as session:
        data = await queries.workload(session, since, until)
    per_nurse: dict[str, int] = {}
    per_day: dict[str, int] = {}
    table: dict[str, dict[str, int]] = {}
    for row in data["visits_per_nurse_per_day"]:
        per_nurse[row["nurse"]] = per_nurse.get(row["nurse"], 0) + row["visits"]
        per_day[row["day"]] = per_day.get(row["day"], 0) + row["visits"]
        table.setdefault(row["nurse"], {})[row["day"]] = row["visits"]
    days = sorted(per_day)
    svg = {
        "per_nurse": charts.bars(sorted(per_nurse.items(), key=lambda kv: -kv[1]), title="每位护士的上门次数",
                                 unit=" 次"),
        "per_day": charts.columns([(d[5:], per_day[d]) for d in days], title="每天的上门次数"),
        "per_service": charts.bars(sorted(((service_name(c), n) for c, n in data["bookings_per_service"].items()),
                                          key=lambda kv: -kv[1]), title="各服务项目的预约数",
                                   colour=charts.COLOURS[2]),
        "per_district": charts.bars(sorted(data["bookings_per_district"].items(), key=lambda kv: -kv[1]),
                                    title="各区的预约数", colour=charts.COLOURS[3]),
        "by_state": charts.bars([(labels.BOOKING_STATES.get(s, s), n) for s, n in data["bookings_by_state"].items()],
                                title="预约状态", colour=charts.COLOURS[0]),
        "complaints": charts.bars([(labels.COMPLAINT_STATES.get(s, s), n)
                                   for s, n in data["complaints_by_state"].items()],
                                  title="投诉建议", colour=charts.COLOURS[4]),
    }
    return render(request, who, "stats.html.j2", data=data, svg=svg, since=since.isoformat(),
                  until=until.isoformat(), table=table, days=days,
                  total_visits=sum(per_nurse.values()),
                  total_bookings=sum(data["bookings_by_state"].values()))


async def funnel_page(request: web.Request) -> web.Response:
    """转化漏斗: the intake funnel by week, where families stop, hand-offs and first human answers."""
    who = await staff(request, "stats:read")
    today = clock.today()
    since = _day(request.query.get("since", ""), today - timedelta(days=funnel.DEFAULT_DAYS))
    until = _day(request.query.get("until", ""), today)
    if until < since:
        since, until = until, since
    since = max(since, until - timedelta(days=366))
    async with transaction(request.app[SESSIONS]) as session:
        weeks = await funnel.by_week(session, since, until)
    totals = {name: sum(week.stages[name] for week in weeks) for name, _ in funnel.STAGES}
    topics = {q.id: q.zh.split("：")[0] for q in questionnaire().questions}
    stopped: Counter[str] = Counter()
    for week in weeks:
        for step, count in week.stopped_at.items():
            stopped[labels.step_words("intake", step, topics)] += count
    words = dict(funnel.STAGES)
    previous = {later: earlier for (_, earlier), (later, _) in zip(funnel.STAGES, funnel.STAGES[1:])}
    minutes = [m for week in weeks for m in week.first_response_minutes]
    handed_off = sum(week.handed_off for week in weeks)
    chart = charts.bars([(words[name], totals[name]) for name, _ in funnel.STAGES], title="转化漏斗", unit=" 户")
    return render(request, who, "funnel.html.j2", weeks=weeks, totals=totals, stages=funnel.STAGES, words=words, previous=previous,
                  chart=chart, stopped=stopped.most_common(), since=since.isoformat(), until=until.isoformat(),
                  handoff_rate=handed_off / totals["started"] if totals["started"] else None,
                  median_minutes=median(minutes) if minutes else None)
