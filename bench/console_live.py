"""Benchmark of the live console's polling: one JSON object with the p50/p99 time (ms) of one
look of the 转人工 queue stream (the queue read and rendered, as every open 工作台 does each
second) and of one conversation stream with nothing new, with WAITING families in the queue, on
SQLite in a fresh data directory; and how many open pages one second of one core would serve."""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import structlog  # noqa: E402

WAITING = 30
LOOKS = 300


async def run(data_dir: Path) -> dict[str, float | int]:
    os.environ.update(JIAHU_DATA_DIR=str(data_dir),
                      JIAHU_SECRET_KEY="bench-secret-key-0123456789-0123456789-abcdef")
    from backend import clock, conversations
    from backend.console import reads
    from backend.console.live import _new_messages
    from backend.console.pages import render_html
    from backend.db import transaction
    from backend.models import Intake
    from backend.settings import get_settings
    from bot.runtime import open_runtime

    runtime = await open_runtime(get_settings())
    try:
        async with transaction(runtime.sessions) as session:
            for n in range(WAITING):
                user = await conversations.get_or_create_user(session, "wechat", f"oBench_{n:04d}")
                await session.flush()
                session.add(Intake(channel_user_id=user.id, privacy_notice_version="bench",
                                   applicant_name=f"张{n}", applicant_relation="daughter"))
                await conversations.record_inbound(session, user, kind="text", text="转人工",
                                                   channel_message_id=f"bench-{n}")
                await conversations.request_handoff(session, user, "intake", "address")

        async def queue_look() -> None:
            async with transaction(runtime.sessions) as session:
                rows = await reads.handoff_inbox(session)
            render_html("_queue.html.j2", queue=rows, now=clock.now(), who=None)

        async def conversation_look() -> None:
            async with transaction(runtime.sessions) as session:
                await _new_messages(session, 1, 10**9)
                await reads.conversation_state(session, 1)

        results: dict[str, float | int] = {"waiting_families": WAITING, "looks": LOOKS}
        for name, look in (("queue", queue_look), ("conversation", conversation_look)):
            for _ in range(20):
                await look()
            times = []
            for _ in range(LOOKS):
                started = time.perf_counter()
                await look()
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            results[f"{name}_look_ms_p50"] = round(statistics.median(times), 2)
            results[f"{name}_look_ms_p99"] = round(times[int(len(times) * 0.99) - 1], 2)
            results[f"{name}_pages_per_core"] = int(1000 / statistics.median(times))
        return results
    finally:
        await runtime.close()


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "var"
        data_dir.mkdir()
        print(json.dumps(asyncio.run(run(data_dir))))


if __name__ == "__main__":
    main()
