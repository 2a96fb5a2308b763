"""The intake funnel by week: stages reached, where families stop, hand-offs and the minutes to
the first human answer; try-outs left out, of the workload statistics too."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from backend import conversations, funnel, queries
from backend.db import transaction
from backend.models import ChannelUser
from tests.backend.api.helpers import api_app, make_token
from tests.conftest import Dialogue


async def four_families(runtime: Any, clock: Any) -> None:
    """One books; one stops at the questionnaire and asks for a person, answered after 12
    minutes; one only says hello; one books on /try (a try-out, not counted)."""
    await Dialogue(runtime.engine, user_id="family-1").intake()
    stopping = Dialogue(runtime.engine, user_id="family-2")
    await stopping.intake(until="q_feeding")
    await stopping.say("转人工")
    await Dialogue(runtime.engine, user_id="family-3").say("你好")
    await Dialogue(runtime.engine, user_id="family-4").intake()
    clock.advance(timedelta(minutes=12))
    async with transaction(runtime.sessions) as session:
        await session.execute(update(ChannelUser).where(ChannelUser.external_id == "family-4").values(is_tryout=True))
        waiting = (await session.execute(select(ChannelUser.id).where(
            ChannelUser.external_id == "family-2"))).scalar_one()
        await conversations.take_over(session, waiting, "li.hotline")


async def test_the_funnel_counts_each_stage_once_a_family_reached_it(runtime, clock, today):
    await four_families(runtime, clock)
    async with runtime.sessions() as session:
        weeks = await funnel.by_week(session, today - timedelta(days=13), today)
    assert [w.start for w in weeks] == [today - timedelta(days=today.weekday() + 14),
                                        today - timedelta(days=today.weekday() + 7),
                                        today - timedelta(days=today.weekday())]
    assert weeks[0].stages["started"] == weeks[1].stages["started"] == 0
    week = weeks[-1]
    assert week.stages == {"started": 3, "privacy": 2, "identity": 2, "assessment": 1, "signed": 1, "booked": 1}
    assert week.drop_off == "privacy"  # the first of the two stages that lost one family
    assert dict(week.stopped_at) == {"q_feeding": 1}
    assert week.handed_off == 1 and week.requests == 1 and week.handoff_rate == 1 / 3
    assert week.first_response_minutes == [pytest.approx(12, abs=0.5)]  # the pinned clock ticks on
    assert week.median_first_response == pytest.approx(12, abs=0.5)


async def test_workload_leaves_try_outs_out(runtime, clock, today):
    await four_families(runtime, clock)
    async with runtime.sessions() as session:
        stats = await queries.workload(session, today - timedelta(days=24), today + timedelta(days=37))
    assert stats["bookings_by_state"] == {"requested": 1}


async def test_the_funnel_in_the_api(runtime, clock, today):
    from aiohttp.test_utils import TestClient, TestServer

    await four_families(runtime, clock)
    token = await make_token(runtime, "reports", "stats:read")
    async with TestClient(TestServer(api_app(runtime), host="127.0.0.1")) as client:
        body = await (await client.get("/api/stats/funnel", headers=token)).json()
        backwards = await client.get("/api/stats/funnel", headers=token,
                                     params={"since": str(today), "until": str(today - timedelta(days=1))})
    assert backwards.status == 400
    week = body["weeks"][-1]
    assert date.fromisoformat(week["week_start"]) == today - timedelta(days=today.weekday())
    assert (week["started"], week["booked"], week["drop_off"], week["stopped_at"]) == (3, 1, "privacy", {"q_feeding": 1})
    assert week["handed_off"] == 1 and week["median_first_response_minutes"] == pytest.approx(12, abs=0.5)
