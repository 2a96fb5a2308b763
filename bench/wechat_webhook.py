"""Load on the WeChat webhook in safe (AES) mode: ``jiahu serve`` on SQLite against a bare
aiohttp + wechatpy layer, in the same run, with 1, 5 and 20 concurrent senders.

Both servers run as processes of their own; this process is the load client. 200 followers send
text messages with distinct MsgIds, every push encrypted, signed and with a fresh nonce (built
before the clock starts, so the client's cost is the same for both servers). A sender waits for
its answer before sending again, and no two senders share a follower. Prints one JSON object:
per concurrency, msg/s, p50, p99 and max (ms), errors, and the ratio of jiahu's msg/s to the
bare layer's.

``--seal N`` then runs ``--seal-rounds`` (3) pairs of 20-sender rounds: one starting with N
signed consents queued, the latencies of the other families' turns while ``jiahu serve``'s worker
renders and seals them, then one once they are sealed; ``sealing`` gives the medians of each
kind (the machine's speed drifts between rounds, so they are compared with their neighbours).
A consent's seal waits for a lull in a burst of turns (bot/activity.py, at most 10 s), so a
round's ``sealed_by_end`` is 0 when none came before it ended. A stand-in for WeChat's API (a
process of its own, on the client's CPUs) takes the document messages that follow the seals;
``wechat_api_calls`` counts them.
``--pin`` (Linux) keeps the load client on the first CPU and the servers, with the rendering
process, on the others: in service WeChat's servers are elsewhere, and here the client otherwise
takes CPU time from the server it measures (and a render from a core the server needs).
``--database-url`` runs jiahu on another database (PostgreSQL: it must exist and be empty, or
hold an earlier run's schema).
Run: ``.venv/bin/python bench/wechat_webhook.py [--messages 600] [--seal 4]``. To profile the
server, ``BENCH_PROFILE_SERVE=/path/to/script.py`` starts it as ``python script.py PORT`` instead
(a script that runs ``bot.cli.main`` with ``serve --port PORT`` under cProfile).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import aiohttp  # noqa: E402

TOKEN = "bench-token"
APPID = "wx0123456789abcdef"
AES_KEY = base64.b64encode(b"jiahu-bench-aes-key-32-bytes-ok!").decode().rstrip("=")
SECRET = "bench-secret-key-0123456789-0123456789-abcdef"
FOLLOWERS = 200
CONCURRENCY = (1, 5, 20)
CHATTER = ["你好", "我的预约", "2", "菜单", "查询预约", "我想预约上门换药", "谢谢"]


@dataclass(frozen=True)
class Push:
    params: dict[str, str]
    body: bytes


def _pushes(count: int, first_id: int, followers: range) -> list[Push]:
    """``count`` encrypted text pushes, follower by follower in turn."""
    from wechatpy.crypto import WeChatCrypto

    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    timestamp = str(int(time.time()))
    pushes = []
    for n in range(count):
        follower = followers[n % len(followers)]
        said = CHATTER[(n // len(followers)) % len(CHATTER)]
        xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[oBench_{follower:04d}]]>"
               f"</FromUserName><CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               f"<Content><![CDATA[{said}]]></Content><MsgId>{first_id + n}</MsgId></xml>")
        nonce = os.urandom(6).hex()
        envelope = crypto.encrypt_message(xml, nonce, timestamp)
        encrypt = envelope.split("<Encrypt><![CDATA[", 1)[1].split("]]>", 1)[0]
        msg_signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce, encrypt])).encode()).hexdigest()
        signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
        body = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
                f"</xml>").encode()
        pushes.append(Push({"signature": signature, "timestamp": timestamp, "nonce": nonce,
                            "encrypt_type": "aes", "msg_signature": msg_signature}, body))
    return pushes


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _load(url: str, concurrency: int, messages: int, first_id: int, pid: int) -> dict[str, Any]:
    """``messages`` pushes from ``concurrency`` senders, each with followers of its own; the
    server's CPU time per message is told apart from the wall time, which other work on the
    machine stretches."""
    per_sender = messages // concurrency
    plans = [_pushes(per_sender, first_id + s * per_sender, range(s, FOLLOWERS, concurrency))
             for s in range(concurrency)]
    latencies: list[float] = []
    errors: list[str] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def sender(plan: list[Push]) -> None:
            for push in plan:
                begin = time.perf_counter()
                try:
                    async with http.post(url, params=push.params, data=push.body) as response:
                        body = await response.read()
                        if response.status != 200 or b"<Encrypt>" not in body:
                            errors.append(f"{response.status}: {body[:80]!r}")
                except aiohttp.ClientError as error:
                    errors.append(repr(error))
                latencies.append((time.perf_counter() - begin) * 1000)

        started, cpu = time.perf_counter(), _cpu_seconds(pid)
        await asyncio.gather(*(sender(plan) for plan in plans))
        elapsed, cpu = time.perf_counter() - started, _cpu_seconds(pid) - cpu
    latencies.sort()
    return {"senders": concurrency, "messages": len(latencies),
            "msg_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 1),
            "max_ms": round(latencies[-1], 1), "server_cpu_ms_per_msg": round(cpu * 1000 / len(latencies), 2),
            "errors": len(errors), "first_errors": errors[:3]}


# --- the servers ----------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(data_dir: Path, database_url: str | None, api_port: int = 9) -> dict[str, str]:
    env = dict(os.environ, JIAHU_DATA_DIR=str(data_dir), JIAHU_WECHAT_TOKEN=TOKEN,
               JIAHU_WECHAT_APPID=APPID, JIAHU_WECHAT_AES_KEY=AES_KEY, JIAHU_SECRET_KEY=SECRET,
               JIAHU_WECHAT_SECRET="bench-appsecret",
               JIAHU_WECHAT_API_URL=f"http://127.0.0.1:{api_port}", PYTHONPATH=str(_ROOT))
    if database_url:
        env["JIAHU_DATABASE_URL"] = database_url
    return env


@contextlib.contextmanager
def _server(args: list[str], env: dict[str, str], port: int, log: Path,
            cpus: set[int] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, *args], cwd=_ROOT, env=env, stdout=out, stderr=out)
    if cpus:  # before it starts its rendering process, which inherits them
        os.sched_setaffinity(process.pid, cpus)
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        process.wait(30)


def jiahu_server(env: dict[str, str], port: int, log: Path,
                 cpus: set[int] | None = None) -> contextlib.AbstractContextManager[Any]:
    """``jiahu serve`` of this checkout (its migrations, background workers and access log)."""
    if os.environ.get("BENCH_PROFILE_SERVE"):
        return _server([os.environ["BENCH_PROFILE_SERVE"], str(port)], env, port, log, cpus)
    return _server(["-c", "from bot.cli import main; main()", "serve", "--port", str(port)], env, port, log, cpus)


def _api_main(port: int) -> None:
    """WeChat's API as far as the bench's messages need it: ``stable_token`` hands out a token,
    every other call (the consents' document messages: ``message/custom/send``) succeeds.
    ``GET /bench/calls`` counts the calls by path."""
    from collections import Counter

    from aiohttp import web

    calls: Counter[str] = Counter()

    async def token(request: web.Request) -> web.Response:
        calls[request.path] += 1
        return web.json_response({"access_token": "bench-access-token", "expires_in": 7200})

    async def other(request: web.Request) -> web.Response:
        await request.read()
        calls[request.path] += 1
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def counted(request: web.Request) -> web.Response:
        return web.json_response(dict(calls))

    app = web.Application()
    app.router.add_post("/cgi-bin/stable_token", token)
    app.router.add_get("/bench/calls", counted)
    app.router.add_route("*", "/{path:.*}", other)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def _api_calls(port: int) -> dict[str, int]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/bench/calls") as response:
        calls: dict[str, int] = await response.json()
        return calls


def _bare_main(port: int) -> None:
    """The bare layer: check the signature, decrypt, parse, answer with an encrypted text."""
    from aiohttp import web
    from wechatpy import parse_message
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.replies import TextReply
    from wechatpy.utils import check_signature

    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)

    async def receive(request: web.Request) -> web.Response:
        query = request.query
        check_signature(TOKEN, query["signature"], query["timestamp"], query["nonce"])
        body = await request.text()
        message = parse_message(crypto.decrypt_message(body, query["msg_signature"], query["timestamp"],
                                                       query["nonce"]))
        reply = TextReply(message=message, content="您好").render()
        return web.Response(text=crypto.encrypt_message(reply, query["nonce"], query["timestamp"]),
                            content_type="application/xml")

    app = web.Application()
    app.router.add_post("/wechat", receive)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def bare_server(env: dict[str, str], port: int, log: Path,
                cpus: set[int] | None = None) -> contextlib.AbstractContextManager[Any]:
    return _server([str(Path(__file__)), "--bare-server", str(port)], env, port, log, cpus)


# --- consents to seal during the load -------------------------------------------------------

async def queue_seal_jobs(env: dict[str, str], count: int) -> None:
    """``count`` signed consents waiting for ``jiahu serve``'s worker to seal them."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("JIAHU_")})
    import uuid

    from backend import notify
    from backend.conversations import get_or_create_user
    from backend.db import make_engine, make_sessionmaker, transaction
    from backend.models import Consent, Intake
    from backend.settings import get_settings
    from documents.consent import context_to_dict
    from documents.sample import family_context

    engine = make_engine(get_settings().resolved_database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            for n in range(count):
                user = await get_or_create_user(session, "wechat", f"oSigner_{n:03d}", language="zh")
                intake = Intake(channel_user_id=user.id, privacy_notice_version="bench", status="consented")
                session.add(intake)
                await session.flush()
                context = family_context("zh", n, document_id=uuid.uuid4().hex)
                consent = Consent(document_id=context.document_id, intake_id=intake.id, template_version="bench",
                                  language="zh", summary_sha256="0" * 64, signer_name=context.signer_name,
                                  signed_at=context.signed_at, channel="wechat",
                                  channel_external_id=user.external_id, status="signed",
                                  events=[{"event": "signed", "at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00")}])
                session.add(consent)
                await session.flush()
                await notify.notify_family(session, user.id, notify.SEAL_CONSENT, message="consent.document_ready",
                                           values={"consent_id": consent.id, "context": context_to_dict(context)})
    finally:
        await engine.dispose()


async def sealed_count(env: dict[str, str]) -> int:
    from sqlalchemy import func, select

    from backend.db import make_engine
    from backend.models import Consent
    from backend.settings import get_settings

    engine = make_engine(get_settings().resolved_database_url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).where(Consent.status == "sealed")) or 0)
    finally:
        await engine.dispose()


# --- the run --------------------------------------------------------------------------------

async def _rounds(url: str, pid: int, messages: int, first_id: int) -> list[dict[str, Any]]:
    await _load(url, 5, FOLLOWERS, first_id, pid)  # warm-up: every follower's first message
    return [await _load(url, concurrency, messages, first_id + (i + 1) * 100_000, pid)
            for i, concurrency in enumerate(CONCURRENCY)]


async def _sealing(url: str, pid: int, messages: int, first_id: int, seal: int, rounds: int,
                   env: dict[str, str]) -> dict[str, Any]:
    """20-sender rounds while ``seal`` consents are sealed, each followed by a round with none
    (once the last of them is sealed): the machine's speed drifts from minute to minute, so each
    kind of round is compared with its neighbours, by the medians of their p99 and max."""
    sealing: list[dict[str, Any]] = []
    plain: list[dict[str, Any]] = []
    for n in range(rounds):
        await queue_seal_jobs(env, seal)
        started = time.perf_counter()
        during = await _load(url, 20, messages, first_id + (10 + 2 * n) * 100_000, pid)
        during["sealed_by_end"] = await sealed_count(env) - seal * n
        while await sealed_count(env) < seal * (n + 1):
            if time.perf_counter() - started > 120:
                raise RuntimeError("consents were not sealed within two minutes")
            await asyncio.sleep(0.2)
        during["all_sealed_s"] = round(time.perf_counter() - started, 1)
        sealing.append(during)
        plain.append(await _load(url, 20, messages, first_id + (11 + 2 * n) * 100_000, pid))

    def medians(kind: list[dict[str, Any]]) -> dict[str, Any]:
        return {key: round(statistics.median(r[key] for r in kind), 1)
                for key in ("msg_per_s", "p50_ms", "p99_ms", "max_ms", "server_cpu_ms_per_msg")
                } | {"errors": sum(r["errors"] for r in kind)}

    return {"consents_per_round": seal, "rounds": rounds, "while_sealing": medians(sealing),
            "none_sealing": medians(plain),
            "each": [{"sealing": {k: a[k] for k in ("p99_ms", "max_ms", "sealed_by_end", "all_sealed_s")},
                      "none": {k: b[k] for k in ("p99_ms", "max_ms")}} for a, b in zip(sealing, plain)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=600, help="messages per round (default 600)")
    parser.add_argument("--seal", type=int, default=0, help="consents to seal during each sealing round")
    parser.add_argument("--seal-rounds", type=int, default=3,
                        help="20-sender rounds while sealing, each followed by one with none (default 3)")
    parser.add_argument("--pin", action="store_true",
                        help="the load client on the first CPU, the servers on the others (Linux)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--bare-server", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--wechat-api", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        _bare_main(args.bare_server)
        return
    if args.wechat_api:
        _api_main(args.wechat_api)
        return
    server_cpus = None
    if args.pin:
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        if len(cpus) < 2:
            parser.error("--pin needs Linux and at least two CPUs")
        server_cpus = set(cpus[1:])
        os.sched_setaffinity(0, {cpus[0]})
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        data_dir = Path(tmp) / "var"
        data_dir.mkdir()
        api_port = _free_port()
        env = _environment(data_dir, args.database_url, api_port)
        stack.enter_context(_server([str(Path(__file__)), "--wechat-api", str(api_port)], env,
                                    api_port, Path(tmp) / "api.log"))  # on the client's CPUs
        result: dict[str, Any] = {"database": (args.database_url or "sqlite").split(":")[0]}
        if server_cpus:
            result["pinned"] = {"client_cpus": sorted(os.sched_getaffinity(0)), "server_cpus": sorted(server_cpus)}
        port = _free_port()
        with bare_server(env, port, Path(tmp) / "bare.log", server_cpus) as server:
            bare = asyncio.run(_rounds(f"http://127.0.0.1:{port}/wechat", server.pid, args.messages, 10**12))
        port = _free_port()
        with jiahu_server(env, port, Path(tmp) / "jiahu.log", server_cpus) as server:
            url = f"http://127.0.0.1:{port}/wechat"
            jiahu = asyncio.run(_rounds(url, server.pid, args.messages, 10**13))
            if args.seal:
                result["sealing"] = asyncio.run(_sealing(url, server.pid, args.messages, 10**13, args.seal,
                                                         args.seal_rounds, env))
                result["sealing"]["wechat_api_calls"] = asyncio.run(_api_calls(api_port))
        for own in jiahu:
            same = next((b for b in bare if b["senders"] == own["senders"]), None)
            if same:
                own["ratio_to_bare"] = round(own["msg_per_s"] / same["msg_per_s"], 4)
        result.update(jiahu=jiahu, bare=bare)
        if "sealing" in result:  # last, as it is the longest
            result["sealing"] = result.pop("sealing")
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
