"""WeChat's events (issue #16): subscription choices and results are recorded and never read
as a family's message; a follower scanning the QR code again is greeted; events jiahu does not
know get no reply and never count as a misunderstanding. Real samples, plain and safe mode."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from backend.models import ConversationState, TranscriptEntry

from .fakes import Family  # noqa: TID252
from .samples import (  # noqa: TID252
    KF_CREATE_SESSION,
    LOCATION_SELECT,
    SCAN,
    SUBSCRIBE_MSG_CHANGE,
    SUBSCRIBE_MSG_POPUP,
    SUBSCRIBE_MSG_SENT,
    from_family,
)


async def _events(runtime: Any) -> list[str]:
    async with runtime.sessions() as session:
        entries = (await session.execute(select(TranscriptEntry).where(
            TranscriptEntry.direction == "in").order_by(TranscriptEntry.id))).scalars()
        return [str((entry.payload or {}).get("event")) for entry in entries]


async def _misses(runtime: Any) -> int:
    async with runtime.sessions() as session:
        state = (await session.execute(select(ConversationState))).scalar_one()
        return int(state.data.get("misses", 0))


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
async def test_subscription_events_are_recorded_and_the_intake_goes_on(
        runtime: Any, fake_wechat: Any, family: Family, safe: bool) -> None:
    family.safe = safe
    assert "个人信息处理告知" in await family.send(family.event("CLICK", "book"))
    for sample in (SUBSCRIBE_MSG_POPUP, SUBSCRIBE_MSG_CHANGE, SUBSCRIBE_MSG_SENT):
        assert await family.post(from_family(sample, family.openid)) == (200, "success")
    assert fake_wechat.sent == []
    events = await _events(runtime)
    assert events[1:] == [
        "notice:subscribe_msg_popup_event VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc:accept, "
        "9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI:reject",
        "notice:subscribe_msg_change_event VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc:reject",
        "notice:subscribe_msg_sent_event VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc:success"]
    answer = await family.send(family.text("同意"))
    assert "家属代为申请" in answer and "个人信息处理告知" not in answer  # where they were


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
async def test_a_follower_who_scans_again_is_greeted(runtime: Any, family: Family, safe: bool) -> None:
    family.safe = safe
    await family.send(family.event("subscribe"))
    answer = await family.send(from_family(SCAN, family.openid))
    assert "您好" in answer and "请问需要办理什么" in answer


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
async def test_unknown_events_get_no_reply_and_are_no_miss(runtime: Any, fake_wechat: Any, family: Family,
                                                           safe: bool) -> None:
    family.safe = safe
    await family.send(family.text("你好"))
    for sample in (KF_CREATE_SESSION, LOCATION_SELECT):
        assert await family.post(from_family(sample, family.openid)) == (200, "success")
    assert await _misses(runtime) == 0
    assert (await _events(runtime))[1:] == ["notice:kf_create_session", "notice:location_select"]
