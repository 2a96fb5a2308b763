"""bot.activity: a burst of turns is told from one family's turn now and then, and a signed
consent's seal waits for a lull in a burst, at most ``SEAL_WAITS_AT_MOST``."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from backend.models import Consent, Notification
from bot import activity, limits
from bot.activity import Turns
from bot.notifier import SEAL_WAITS_AT_MOST, seal_consents
from flows.types import Inbound


async def test_no_turn_in_flight_is_no_burst_and_is_told_at_once() -> None:
    turns = Turns()
    assert await asyncio.wait_for(turns.busy(apart=60), timeout=5) is False


async def test_turns_in_flight_all_along_are_a_burst() -> None:
    turns = Turns()
    with turns.turn():
        assert await turns.busy(apart=0) is True
    assert turns.in_flight == 0


async def test_one_short_turn_is_no_burst() -> None:
    turns, entered = Turns(), asyncio.Event()

    async def one_turn() -> None:
        with turns.turn():
            entered.set()
            await asyncio.sleep(0)  # over before the second look

    task = asyncio.create_task(one_turn())
    await entered.wait()
    assert turns.in_flight == 1
    assert await turns.busy(apart=0) is False
    await task


async def test_turns_starting_one_after_another_are_a_burst_though_none_is_in_flight() -> None:
    """A burst of short turns: at every look the last one is over and the next not yet begun."""
    turns, stop = Turns(), asyncio.Event()

    async def one_after_another() -> None:
        while not stop.is_set():
            with turns.turn():
                pass
            await asyncio.sleep(0)

    task = asyncio.create_task(one_after_another())
    await asyncio.sleep(0)
    assert turns.in_flight == 0 and turns.started >= 1
    assert await turns.busy(apart=0) is True
    stop.set()
    await task


async def test_a_turn_over_a_while_ago_is_no_burst_and_is_told_at_once() -> None:
    turns = Turns()
    with turns.turn():
        pass
    turns.last_started -= 2 * Turns.RECENT
    assert await asyncio.wait_for(turns.busy(apart=60), timeout=5) is False


async def test_every_turn_handed_to_the_engine_is_counted_while_it_runs(runtime: Any) -> None:
    seen = []
    handle = runtime.engine.handle

    async def counting(inbound: Inbound) -> Any:
        seen.append(activity.turns.in_flight)
        if inbound.text == "boom":
            raise RuntimeError("boom")
        return await handle(inbound)

    runtime.engine.handle = counting
    await limits.handle(runtime.engine, Inbound(channel="terminal", user_id="f1", kind="text",
                                                 text="你好", message_id="m1"))
    with pytest.raises(RuntimeError):
        await limits.handle(runtime.engine, Inbound(channel="terminal", user_id="f1", kind="text",
                                                     text="boom", message_id="m2"))
    assert seen == [1, 1] and activity.turns.in_flight == 0


async def test_in_a_burst_a_consent_is_sealed_after_a_lull_or_ten_seconds(dialogue: Any, runtime: Any,
                                                                          clock: Any) -> None:
    await dialogue.intake(until="slot")  # signed: the seal queued
    with activity.turns.turn():  # other families' turns in flight all along
        assert await seal_consents(runtime) == 0
        async with runtime.sessions() as session:
            job = (await session.execute(select(Notification))).scalar_one()
            consent = (await session.execute(select(Consent))).scalar_one()
        assert (job.kind, job.status, job.attempts, consent.status) == (
            "consent.seal", "pending", 0, "signed")
        clock.advance(SEAL_WAITS_AT_MOST - timedelta(seconds=1))
        assert await seal_consents(runtime) == 0
        clock.advance(timedelta(seconds=2))
        assert await seal_consents(runtime) == 1  # waited long enough: sealed in the burst
    async with runtime.sessions() as session:
        consent = (await session.execute(select(Consent))).scalar_one()
    assert consent.status == "sealed"


async def test_with_no_burst_a_consent_is_sealed_at_once(dialogue: Any, runtime: Any) -> None:
    await dialogue.intake(until="slot")
    assert await seal_consents(runtime) == 1
