"""Shared fixtures: a private data directory, a migrated database per test (SQLite, and
PostgreSQL when ``JIAHU_TEST_DATABASE_URL`` is set), a runtime and a dialogue helper."""
from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import structlog
from sqlalchemy.engine import make_url

from backend.clock import PinnedClock, install

BEIJING = ZoneInfo("Asia/Shanghai")
# The instant every test starts at: a Wednesday morning in Beijing. Tests compute the dates
# they need from the clock (``today`` fixture, ``clock.today()``), never from the calendar.
PINNED = datetime(2026, 11, 25, 10, 0, tzinfo=BEIJING)
PG_URL = os.environ.get("JIAHU_TEST_DATABASE_URL", "")
TEST_SECRET = "test-secret-key-for-jiahu-tests-only-0123456789"
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


def _reset_caches() -> None:
    from backend import config, staff
    from backend.settings import get_settings
    from flows import messages

    staff.forget_unknown_names()
    get_settings.cache_clear()
    config.reload()
    messages.catalogue.cache_clear()


@pytest.fixture(autouse=True)
def jiahu_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own DATA_DIR and a fixed secret key; no setting leaks between tests."""
    for name in list(os.environ):
        if name.startswith("JIAHU_") and name != "JIAHU_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    data_dir = tmp_path / "var"
    monkeypatch.setenv("JIAHU_DATA_DIR", str(data_dir))
    monkeypatch.setenv("JIAHU_SECRET_KEY", TEST_SECRET)
    monkeypatch.chdir(tmp_path)
    _reset_caches()
    yield data_dir
    _reset_caches()
    structlog.reset_defaults()


@pytest.fixture(autouse=True)
def clock() -> Iterator[PinnedClock]:
    """The service's clock, pinned at ``PINNED`` and moving on from there as time passes, so
    that the suite behaves the same on any day and at any hour it runs."""
    pinned = PinnedClock(PINNED, ticking=True)
    previous = install(pinned)
    yield pinned
    install(previous)


@pytest.fixture
def today(clock: PinnedClock) -> date:
    """The hospital's date at the pinned instant."""
    from backend import clock as service_clock

    return service_clock.today()


# --- databases ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per test session; each test gets a copy."""
    from backend.db import upgrade_sync

    path = tmp_path_factory.mktemp("template") / "jiahu.db"
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


async def _pg_admin(sql: str) -> None:
    import asyncpg

    url = make_url(PG_URL)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                 password=url.password, database=url.database)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_database_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database used as the template of each test's database."""
    from backend.db import upgrade_sync

    name = f"jiahu_tmpl_{os.getpid()}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    upgrade_sync(_pg_database_url(name))
    yield name
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated, empty database for this test; also set as ``JIAHU_DATABASE_URL``."""
    if request.param == "sqlite":
        path = tmp_path / "jiahu.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite+aiosqlite:///{path}"
        monkeypatch.setenv("JIAHU_DATABASE_URL", url)
        _reset_caches()
        yield url
        return
    template = request.getfixturevalue("pg_template")
    name = f"jiahu_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = _pg_database_url(name)
    monkeypatch.setenv("JIAHU_DATABASE_URL", url)
    _reset_caches()
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def trained_recognizer(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The embedded NLU model, trained once per test session from nlu/data."""
    from nlu.embedded import EmbeddedRecognizer

    recognizer = EmbeddedRecognizer(tmp_path_factory.mktemp("nlu-model"))
    recognizer.load()
    return recognizer


@pytest.fixture
async def runtime(database_url: str, trained_recognizer: object) -> AsyncIterator[object]:
    from backend.settings import get_settings
    from bot.runtime import open_runtime

    rt = await open_runtime(get_settings(), migrate=False, recognizer=trained_recognizer)
    try:
        yield rt
    finally:
        await rt.close()


# --- conversations as tables -------------------------------------------------------------

@dataclass
class Dialogue:
    """Plays a family member's messages and returns the bot's replies as readable text."""

    engine: object
    user_id: str = "family-1"
    channel: str = "terminal"
    language: str | None = None
    counter: int = 0
    log: list[str] = field(default_factory=list)

    async def send(self, text: str | None = None, **fields: object) -> list:  # type: ignore[type-arg]
        from flows.types import Inbound

        self.counter += 1
        fields.setdefault("message_id", f"{self.user_id}-{self.counter}")
        kind = fields.pop("kind", "file" if fields.get("media") else "text")
        inbound = Inbound(channel=self.channel, user_id=self.user_id, kind=str(kind), text=text,
                          language=self.language, **fields)  # type: ignore[arg-type]
        replies = await self.engine.handle(inbound)  # type: ignore[attr-defined]
        self.log.append(f"> {text}\n" + render(replies))
        return replies

    async def say(self, text: str | None = None, **fields: object) -> str:
        return render(await self.send(text, **fields))

    async def play(self, table: list[tuple[str, str]]) -> None:
        """Each row: what the family writes, and a fragment the bot's answer must contain."""
        for message, expected in table:
            answer = await self.say(message)
            assert expected in answer, f"after {message!r} expected {expected!r} in:\n{answer}"


    async def intake(self, until: str | None = None) -> None:
        """Walk the happy path of the intake, stopping before the step named ``until``."""
        from flows.types import Media

        for name, message, expected in HAPPY_PATH:
            if name == until:
                return
            if message == "<id-card>":
                answer = await self.say(media=[Media(png_bytes(), "image/png", "id.png")])
            elif message == "<record>":
                answer = await self.say(media=[Media(png_bytes((80, 60)), "image/png", "discharge.png")])
            else:
                answer = await self.say(message)
            assert expected in answer, f"at {name}: after {message!r} expected {expected!r} in:\n{answer}"


# (step answered, what the family writes, what the bot says next)
HAPPY_PATH = [
    ("menu", "你好", "预约上门护理"),
    ("start", "预约上门护理", "个人信息处理告知"),
    ("privacy", "同意", "家属代为申请"),
    ("applicant", "2", "什么人"),
    ("relation", "女儿", "您（申请人）的姓名"),
    ("applicant_name", "张丽", "患者的姓名"),
    ("patient_name", "王秀英", "18位身份证号码"),
    ("id_number", "11010519491231002X", "1949-12-31"),
    ("phone", "13800138000", "详细地址"),
    ("address", "北京市朝阳区望京街道花家地小区3号楼2单元501", "身份证的正面照片"),
    ("upload_id", "<id-card>", "身份证照片已收到"),
    ("upload_records", "<record>", "已收到第1份资料"),
    ("records_done", "完成", "进食"),
    ("q_feeding", "1", "洗澡"),
    ("q_bathing", "1", "修饰"),
    ("q_grooming", "1", "穿衣"),
    ("q_dressing", "2", "大便"),
    ("q_bowels", "2", "小便"),
    ("q_bladder", "2", "如厕"),
    ("q_toilet", "2", "床椅转移"),
    ("q_transfers", "2", "平地行走"),
    ("q_mobility", "2", "上下楼梯"),
    ("q_stairs", "2", "病情稳定"),
    ("q_stable", "1", "凝血"),
    ("q_bleeding", "1", "主要疾病"),
    ("q_conditions", "脑梗后卧床，骶尾部有压疮", "过敏"),
    ("q_allergies", "青霉素过敏", "吃哪些药"),
    ("q_medications", "阿司匹林", "最需要护士"),
    ("q_need", "压疮换药", "Barthel指数）65分，轻度依赖"),
    ("services", "2,3", "在场的是您本人吗"),
    ("present_same", "是", "联系到在场人的电话"),
    ("present_phone", "13800138001", "以上都正确吗"),
    ("review", "确认无误", "请输入您的全名“张丽”作为签名"),
    ("consent", "张丽", "请选择上门时间"),
    ("slot", "1", "确认预约吗"),
    ("confirm", "确认", "预约编号"),
]


def recording(runtime: object) -> list:  # type: ignore[type-arg]
    """Record every Inbound the engine is given, passing it through."""
    seen: list = []  # type: ignore[type-arg]
    handle = runtime.engine.handle  # type: ignore[attr-defined]

    async def spy(inbound: object) -> object:
        seen.append(inbound)
        return await handle(inbound)

    runtime.engine.handle = spy  # type: ignore[attr-defined]
    return seen


def render(replies: list) -> str:  # type: ignore[type-arg]
    lines = []
    for reply in replies:
        if reply.text:
            lines.append(reply.text)
        lines += [f"{i}. {c.label}" for i, c in enumerate(reply.choices, 1)]
        if reply.filename:
            lines.append(f"[{reply.kind}: {reply.filename}]")
    return "\n".join(lines)


@pytest.fixture
def dialogue(runtime: object) -> Dialogue:
    return Dialogue(runtime.engine)  # type: ignore[attr-defined]


def png_bytes(size: tuple[int, int] = (64, 40)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 180, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def png() -> bytes:
    return png_bytes()
