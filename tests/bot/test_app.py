"""``jiahu serve``'s app and the terminal CLI, end to end."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from typer.testing import CliRunner

from bot.app import create_app
from bot.cli import app as cli


async def test_healthz_is_200_with_the_database(runtime):
    async with TestClient(TestServer(create_app(runtime))) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert (await response.json())["status"] == "ok"


async def test_serving_checkpoints_a_sqlite_log_on_a_thread_of_its_own(runtime):
    """``jiahu serve``'s app, background work on: the WAL checkpointer runs with it (SQLite
    only) and stops with it."""
    async with TestClient(TestServer(create_app(runtime, background=True))) as client:
        assert (await client.get("/healthz")).status == 200
        running = {thread.name for thread in threading.enumerate()}
        assert ("jiahu-wal-checkpoint" in running) == (runtime.db.dialect.name == "sqlite")
    assert "jiahu-wal-checkpoint" not in {thread.name for thread in threading.enumerate()}


async def test_healthz_is_503_when_the_database_is_unreachable(tmp_path, trained_recognizer, monkeypatch):
    from backend.db import make_engine
    from backend.settings import get_settings
    from bot.runtime import open_runtime

    monkeypatch.setenv("JIAHU_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/ok.db")
    get_settings.cache_clear()
    runtime = await open_runtime(get_settings(), recognizer=trained_recognizer)
    await runtime.db.dispose()
    runtime.db = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    async with TestClient(TestServer(create_app(runtime))) as client:
        response = await client.get("/healthz")
        assert response.status == 503


def test_jiahu_serve_starts_on_uvloop_and_answers(tmp_path: Path) -> None:
    """The command itself, as ``make run`` starts it: migrations, workers, libuv's event loop."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "JIAHU_DATA_DIR": str(tmp_path / "var"),
           "JIAHU_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'var' / 'jiahu.db'}"}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()", "serve",
                                   "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert json.load(response)["status"] == "ok"
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/try", timeout=10) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(30)
    ready = [json.loads(line) for line in log.read_text().splitlines() if '"runtime.ready"' in line]
    assert [entry["event_loop"] for entry in ready] == ["uvloop"]


def test_chat_script_prints_the_transcript(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("JIAHU_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/chat.db")
    script = tmp_path / "dialogue.txt"
    script.write_text("你好\n预约\n同意\n1\n王秀英\n11010519491231002X\n# a comment\n", "utf-8")
    result = CliRunner().invoke(cli, ["chat", "--script", str(script), "--user", "demo"])
    assert result.exit_code == 0, result.output
    assert "> 预约" in result.output and "bot: 在开始之前" in result.output
    assert "已核验：女，出生于 1949-12-31" in result.output
    # a second run resumes where the conversation stopped
    script.write_text("13800138000\n", "utf-8")
    result = CliRunner().invoke(cli, ["chat", "--script", str(script), "--user", "demo"])
    assert "详细地址" in result.output


def test_db_upgrade_command(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("JIAHU_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/up.db")
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0 and "database at head" in result.output
    assert (tmp_path / "up.db").exists()
