"""The intake funnel by week: of the families who started talking to the bot, how many accepted
the privacy notice, were identified, assessed, signed and booked, and where the others stopped;
how many asked for a person and how long they waited for the first human answer. Try-out
conversations (/try) are left out; a family counts in the week of its first message."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock
from backend.models import (
    Assessment,
    Booking,
    ChannelUser,
    Consent,
    ConversationState,
    HandoffRequest,
    Intake,
    Notification,
)

# The stages in order, with the words staff read.
STAGES = [("started", "开始对话"), ("privacy", "同意个人信息告知"), ("identity", "完成身份核验"),
          ("assessment", "完成评估"), ("signed", "签署知情同意书"), ("booked", "预约成功")]
DEFAULT_DAYS = 55  # the funnel page and API show the last 8 weeks unless asked otherwise
# What a member of staff writing to the family sends first (backend.conversations).
_HUMAN_ANSWERS = ("staff.joined", "staff.message")


@dataclass
class Week:
    """One week of the funnel (Monday to Sunday in the hospital's time zone)."""

    start: date
    stages: dict[str, int] = field(default_factory=lambda: dict.fromkeys([name for name, _ in STAGES], 0))
    stopped_at: Counter[str] = field(default_factory=Counter)  # intake step where the unbooked stopped
    handed_off: int = 0  # families who asked for a person
    requests: int = 0  # their requests (转人工), each timed to its first human answer
    first_response_minutes: list[float] = field(default_factory=list)
    satisfaction: Counter[str] = field(default_factory=Counter)  # good, fair, poor at hand-back

    @property
    def handoff_rate(self) -> float | None:
        started = self.stages["started"]
        return self.handed_off / started if started else None

    @property
    def median_first_response(self) -> float | None:
        return median(self.first_response_minutes) if self.first_response_minutes else None

    @property
    def drop_off(self) -> str | None:
        """The stage that loses the most families on the way to the next one."""
        names = [name for name, _ in STAGES]
        losses = [(self.stages[a] - self.stages[b], b) for a, b in zip(names, names[1:])]
        lost, stage = max(losses, key=lambda loss: loss[0])  # the earliest of equal losses
        return stage if lost > 0 else None


def week_of(moment: datetime) -> date:
    local = moment.astimezone(clock.zone()).date()
    return local - timedelta(days=local.weekday())


async def by_week(session: AsyncSession, since: date, until: date) -> list[Week]:
    """The funnel for every week from the one holding ``since`` to the one holding ``until``."""
    first = since - timedelta(days=since.weekday())
    weeks: dict[date, Week] = {}
    day = first
    while day <= until:
        weeks[day] = Week(day)
        day += timedelta(days=7)
    start = datetime.combine(first, datetime.min.time(), clock.zone())
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), clock.zone())
    users = dict((await session.execute(select(ChannelUser.id, ChannelUser.created_at).where(
        ChannelUser.is_tryout.is_(False), ChannelUser.created_at >= start, ChannelUser.created_at < end))).all())
    if not users:
        return list(weeks.values())
    ids = list(users)
    reached: dict[int, set[str]] = {user_id: {"started"} for user_id in ids}
    for user_id, patient_id, intake_id in (await session.execute(
            select(Intake.channel_user_id, Intake.patient_id, Intake.id).where(Intake.channel_user_id.in_(ids)))).all():
        reached[user_id].add("privacy")
        if patient_id is not None:
            reached[user_id].add("identity")
    for stage, query in [
            ("assessment", select(Intake.channel_user_id).join(Assessment, Assessment.intake_id == Intake.id)),
            ("signed", select(Intake.channel_user_id).join(Consent, Consent.intake_id == Intake.id)
             .where(Consent.signed_at.is_not(None))),
            ("booked", select(Booking.channel_user_id))]:
        column = query.selected_columns[0]
        for (user_id,) in (await session.execute(query.where(column.in_(ids)))).all():
            reached[user_id].add(stage)
    steps = dict((await session.execute(select(ConversationState.channel_user_id, ConversationState.step).where(
        ConversationState.channel_user_id.in_(ids), ConversationState.flow == "intake"))).all())
    for user_id, created in users.items():
        week = weeks.get(week_of(created))
        if week is None:
            continue
        for stage in reached[user_id]:
            week.stages[stage] += 1
        if "booked" not in reached[user_id] and steps.get(user_id):
            week.stopped_at[str(steps[user_id])] += 1
    await _handoffs(session, ids, users, weeks)
    return list(weeks.values())


async def _handoffs(session: AsyncSession, ids: list[int], users: dict[int, datetime],
                    weeks: dict[date, Week]) -> None:
    """Families who asked for a person, and minutes from each request to the first human answer."""
    requests = (await session.execute(select(
            HandoffRequest.channel_user_id, HandoffRequest.created_at, HandoffRequest.satisfaction).where(
        HandoffRequest.channel_user_id.in_(ids)).order_by(HandoffRequest.created_at))).all()
    answers: dict[int, list[datetime]] = {}
    for user_id, at in (await session.execute(select(Notification.channel_user_id, Notification.created_at).where(
            Notification.channel_user_id.in_(ids), Notification.kind.in_(_HUMAN_ANSWERS))
            .order_by(Notification.created_at))).all():
        answers.setdefault(user_id, []).append(at)
    counted: set[int] = set()
    for user_id, asked, satisfaction in requests:
        week = weeks.get(week_of(users[user_id]))
        if week is None:
            continue
        if user_id not in counted:
            week.handed_off += 1
            counted.add(user_id)
        week.requests += 1
        if satisfaction:
            week.satisfaction[satisfaction] += 1
        answer = next((at for at in answers.get(user_id, []) if at >= asked), None)
        if answer is not None:
            week.first_response_minutes.append((answer - asked).total_seconds() / 60)
