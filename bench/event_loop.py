"""Does the event loop stay free under attack? One JSON object: /healthz latency (ms) while 100
unknown-name console logins arrive at once, and while one 200,000-character WeChat message is
handled; SQLite in a fresh data directory, server and clients in one process (as a test does)."""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import structlog  # noqa: E402
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

TOKEN = "bench-token"
LOGINS = 100
LONG_TEXT = 200_000


async def _probe(client: TestClient, until: asyncio.Event) -> list[float]:
    """/healthz every 20 ms until ``until`` is set; each answer's latency in ms."""
    latencies: list[float] = []
    while not until.is_set():
        begin = time.perf_counter()
        response = await client.get("/healthz")
        await response.read()
        latencies.append((time.perf_counter() - begin) * 1000)
        await asyncio.sleep(0.02)
    return latencies


async def _during(client: TestClient, work: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    done = asyncio.Event()
    probe = asyncio.create_task(_probe(client, done))
    await asyncio.sleep(0.05)
    begin = time.perf_counter()
    result = await work()
    elapsed = time.perf_counter() - begin
    done.set()
    latencies = sorted(await probe)
    return {"healthz_ms_p50": round(statistics.median(latencies), 1),
            "healthz_ms_max": round(latencies[-1], 1), "healthz_probes": len(latencies),
            "work_s": round(elapsed, 2), "result": result}


async def _bad_logins(client: TestClient) -> dict[str, int]:
    page = await (await client.get("/console/login")).text()
    csrf = re.search(r'name="login_csrf" value="([^"]+)"', page)

    async def one(n: int) -> int:
        form = {"username": f"nobody{n}", "password": "guess", **({"login_csrf": csrf.group(1)} if csrf else {})}
        response = await client.post("/console/login", data=form, allow_redirects=False)
        await response.read()
        return response.status

    statuses = await asyncio.gather(*(one(n) for n in range(LOGINS)))
    return {str(s): statuses.count(s) for s in sorted(set(statuses))}


async def _long_message(client: TestClient) -> dict[str, Any]:
    timestamp, nonce = str(int(time.time())), os.urandom(4).hex()
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[oBench]]>"
           f"</FromUserName><CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{'我要预约上门护理，' * (LONG_TEXT // 9)}]]></Content><MsgId>1</MsgId></xml>")
    response = await client.post("/wechat", data=xml.encode(), params={
        "signature": signature, "timestamp": timestamp, "nonce": nonce})
    await response.read()
    return {"status": response.status, "characters": LONG_TEXT}


async def run(data_dir: Path) -> dict[str, Any]:
    os.environ.update(JIAHU_DATA_DIR=str(data_dir), JIAHU_WECHAT_TOKEN=TOKEN,
                      JIAHU_SECRET_KEY="bench-secret-key-0123456789-0123456789-abcdef")
    from backend.db import transaction
    from backend.settings import get_settings
    from backend.staff import create_staff
    from bot.app import create_app
    from bot.runtime import open_runtime

    runtime = await open_runtime(get_settings())
    async with transaction(runtime.sessions) as session:
        await create_staff(session, "li.hua", "李华", "hotline", "a long password 123")
    client = TestClient(TestServer(create_app(runtime), host="127.0.0.1"))
    await client.start_server()
    try:
        logins = await _during(client, lambda: _bad_logins(client))
        message = await _during(client, lambda: _long_message(client))
    finally:
        await client.close()
    return {"bad_logins": logins, "long_message": message, "goal_ms": 200}


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "var"
        data_dir.mkdir()
        print(json.dumps(asyncio.run(run(data_dir))))


if __name__ == "__main__":
    main()
