"""Benchmark of the WeChat webhook: one JSON object with text turns per second and the p50/p99
latency (ms) of a plain-mode webhook turn, after warm-up, on SQLite in a fresh data directory."""
from __future__ import annotations

import asyncio
import hashlib
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
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

TOKEN = "bench-token"
USERS = 10
WARMUP_TURNS = 60
TURNS = 300
CHATTER = ["你好", "<status>", "我的预约", "2", "菜单", "<services>", "查询预约"]


def _push(openid: str, n: int, said: str) -> str:
    if said.startswith("<"):
        return (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
                f"</FromUserName><CreateTime>{1_700_000_000 + n}</CreateTime><MsgType><![CDATA[event]]>"
                f"</MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[{said[1:-1]}]]></EventKey></xml>")
    return (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
            f"</FromUserName><CreateTime>{1_700_000_000 + n}</CreateTime><MsgType><![CDATA[text]]>"
            f"</MsgType><Content><![CDATA[{said}]]></Content><MsgId>{10**15 + n}</MsgId></xml>")


def _query() -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), os.urandom(4).hex()
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


async def run(data_dir: Path) -> dict[str, float | int]:
    os.environ.update(JIAHU_DATA_DIR=str(data_dir), JIAHU_WECHAT_TOKEN=TOKEN,
                      JIAHU_SECRET_KEY="bench-secret-key-0123456789-0123456789-abcdef")
    from backend.settings import get_settings
    from bot.app import create_app
    from bot.runtime import open_runtime

    runtime = await open_runtime(get_settings())
    client = TestClient(TestServer(create_app(runtime), host="127.0.0.1"))
    await client.start_server()
    latencies: list[float] = []
    count = 0
    try:
        async def turn(n: int) -> float:
            openid = f"oBench_{n % USERS:04d}"
            said = CHATTER[(n // USERS) % len(CHATTER)]
            begin = time.perf_counter()
            response = await client.post("/wechat", params=_query(), data=_push(openid, n, said).encode())
            body = await response.text()
            assert response.status == 200 and body, body
            return (time.perf_counter() - begin) * 1000

        for _ in range(WARMUP_TURNS):
            await turn(count)
            count += 1
        started = time.perf_counter()
        for _ in range(TURNS):
            latencies.append(await turn(count))
            count += 1
        elapsed = time.perf_counter() - started
    finally:
        await client.close()
    latencies.sort()
    return {
        "turns": TURNS,
        "turns_per_s": round(TURNS / elapsed, 1),
        "turn_ms_p50": round(statistics.median(latencies), 2),
        "turn_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1], 2),
        "turn_ms_max": round(latencies[-1], 2),
    }


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "var"
        data_dir.mkdir()
        print(json.dumps(asyncio.run(run(data_dir))))


if __name__ == "__main__":
    main()
