"""Two ``jiahu serve`` processes behind one PostgreSQL database against one, under the same load.

The load is bench/wechat_webhook.py's (safe-mode text pushes from 200 followers, 20 concurrent
senders); with two processes each push goes to the next process in turn, as a round-robin proxy
would send it, so one family's messages reach both. One push in ten is then sent again, as
WeChat retries, to the other process. Afterwards the database must hold every message exactly
once, each answered. Prints one JSON object with both rounds and the ratio of their msg/s.

Needs PostgreSQL on 127.0.0.1:5432 (user ``postgres``, or ``--admin-url``); a fresh database is
created for the run and dropped after.
Run: ``.venv/bin/python bench/postgres_processes.py [--messages 1000]``.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402

_spec = importlib.util.spec_from_file_location("wechat_webhook_bench", Path(__file__).with_name("wechat_webhook.py"))
assert _spec is not None and _spec.loader is not None
load = sys.modules["wechat_webhook_bench"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(load)

SENDERS = 20


async def _send(urls: list[str], pushes: list[Any], retries: list[Any]) -> dict[str, Any]:
    """Every push once (round robin over ``urls``) by ``SENDERS`` senders, then the retries."""
    latencies: list[float] = []
    errors: list[str] = []
    queue: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()
    for n, push in enumerate(pushes):
        queue.put_nowait((n, push))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2 * SENDERS)) as http:
        async def post(url: str, push: Any) -> None:
            begin = time.perf_counter()
            try:
                async with http.post(url, params=push.params, data=push.body) as response:
                    body = await response.read()
                    if response.status != 200 or not body:
                        errors.append(f"{response.status}: {body[:80]!r}")
            except aiohttp.ClientError as error:
                errors.append(repr(error))
            latencies.append((time.perf_counter() - begin) * 1000)

        async def sender() -> None:
            while not queue.empty():
                n, push = queue.get_nowait()
                await post(urls[n % len(urls)], push)

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(SENDERS)))
        elapsed = time.perf_counter() - started
        for n, push in retries:  # WeChat's retry of a message, reaching the other process
            await post(urls[(n + 1) % len(urls)], push)
    latencies.sort()
    return {"processes": len(urls), "messages": len(pushes), "msg_per_s": round(len(pushes) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 1),
            "max_ms": round(latencies[-1], 1), "errors": len(errors), "first_errors": errors[:3]}


def _pushes(count: int, first_id: int) -> list[Any]:
    """``count`` pushes, the followers taking turns (each sender's queue mixes them)."""
    return list(load._pushes(count, first_id, range(load.FOLLOWERS)))


async def _stored(database_url: str, first_id: int, count: int) -> dict[str, int]:
    """How the round's messages are stored: inbound entries, distinct ones, answered ones."""
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        ids = [str(first_id + n) for n in range(count)]
        row = await connection.fetchrow(
            "SELECT count(*) AS stored, count(DISTINCT channel_message_id) AS distinct_ids "
            "FROM transcript WHERE direction = 'in' AND channel_message_id = ANY($1::text[])", ids)
        answered = await connection.fetchval(
            "SELECT count(*) FROM transcript t WHERE t.direction = 'in' AND t.channel_message_id = ANY($1::text[]) "
            "AND EXISTS (SELECT 1 FROM transcript o WHERE o.channel_user_id = t.channel_user_id "
            "AND o.direction = 'out' AND o.id > t.id)", ids)
        return {"sent": count, "stored": row["stored"], "distinct": row["distinct_ids"], "answered": answered}
    finally:
        await connection.close()


async def _round(urls: list[str], database_url: str, messages: int, first_id: int) -> dict[str, Any]:
    await _send(urls, _pushes(load.FOLLOWERS, first_id - 50_000), [])  # every follower's first message
    pushes = _pushes(messages, first_id)
    retries = [(n, pushes[n]) for n in range(0, messages, 10)]
    result = await _send(urls, pushes, retries)
    result["retried"] = len(retries)
    result["store"] = await _stored(database_url, first_id, messages)
    result["lost"] = result["store"]["sent"] - result["store"]["distinct"]
    result["duplicated"] = result["store"]["stored"] - result["store"]["distinct"]
    return result


@contextlib.asynccontextmanager
async def _database(admin_url: str):  # type: ignore[no-untyped-def]
    name = f"jiahu_bench_{os.getpid()}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _main(messages: int, admin_url: str) -> dict[str, Any]:
    rounds: list[dict[str, Any]] = []
    async with _database(admin_url) as database_url:
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp) / "var"
            data_dir.mkdir()
            env = load._environment(data_dir, database_url)
            ports = [load._free_port(), load._free_port()]
            with load.jiahu_server(env, ports[0], Path(tmp) / "jiahu-1.log"):
                urls = [f"http://127.0.0.1:{ports[0]}/wechat"]
                rounds.append(await asyncio.to_thread(_in_loop, _round(urls, database_url, messages, 10**13)))
                with load.jiahu_server(env, ports[1], Path(tmp) / "jiahu-2.log"):
                    urls.append(f"http://127.0.0.1:{ports[1]}/wechat")
                    rounds.append(await asyncio.to_thread(_in_loop, _round(urls, database_url, messages,
                                                                           2 * 10**13)))
    one, two = rounds
    return {"database": "postgresql", "one_process": one, "two_processes": two,
            "ratio_two_to_one": round(two["msg_per_s"] / one["msg_per_s"], 2)}


def _in_loop(work: Any) -> Any:
    """Run a round in a loop of its own (the servers start and stop from blocking code)."""
    return asyncio.run(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_main(args.messages, args.admin_url)), ensure_ascii=False))


if __name__ == "__main__":
    main()
