"""The whole jiahu app with the console, members of staff of each role, and a logged-in client."""
from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

PASSWORD = "correct horse battery"
STAFF = [("li.hotline", "李敏", "hotline"), ("zhao.manager", "赵护士长", "nurse_manager"),
         ("admin", "系统管理员", "admin")]


def console_app(runtime: Any) -> web.Application:
    from bot.app import create_app

    return create_app(runtime)


@pytest.fixture
async def staff_accounts(runtime: Any) -> dict[str, int]:
    from backend.db import transaction
    from backend.staff import create_staff

    ids = {}
    async with transaction(runtime.sessions) as session:
        for username, name, role in STAFF:
            ids[role] = (await create_staff(session, username, name, role, PASSWORD)).id
    return ids


@pytest.fixture
async def client(runtime: Any, staff_accounts: dict[str, int]) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(console_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


async def login_form(client: TestClient) -> dict[str, str]:
    """What the login page gives a browser: its form's CSRF token (and the cookie it goes with)."""
    page = await (await client.get("/console/login?next=/console/")).text()
    return {"login_csrf": re.search(r'name="login_csrf" value="([^"]+)"', page).group(1)}  # type: ignore[union-attr]


@dataclass
class Staff:
    """A browser-less member of staff: logs in, reads pages, sends forms with the CSRF token."""

    client: TestClient
    csrf: str = ""

    async def login(self, username: str, password: str = PASSWORD) -> None:
        response = await self.client.post("/console/login", data={
            "username": username, "password": password, **await login_form(self.client)},
            allow_redirects=False)
        assert response.status == 303, await response.text()
        page = await (await self.client.get("/console/")).text()
        self.csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    async def post(self, path: str, **fields: Any) -> Any:
        return await self.client.post(path, data={"csrf": self.csrf, **fields}, allow_redirects=False)


@pytest.fixture
def as_staff(client: TestClient) -> Staff:
    return Staff(client)


@dataclass
class ConsoleBrowser:
    """The console served on 127.0.0.1 and a headless Chromium context opened on it."""

    base: str
    chromium: Any
    context: Any
    errors: list[str]

    async def page(self) -> Any:
        """A new tab whose script errors are collected (a test asserts there are none) and whose
        confirmation dialogs are accepted."""
        page = await self.context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept())
        return page

    async def login(self, page: Any, username: str) -> None:
        await page.goto(self.base + "/console/")
        await page.get_by_label("用户名").fill(username)
        await page.get_by_label("密码").fill(PASSWORD)
        await page.get_by_role("button", name="登录").click()


@asynccontextmanager
async def console_browser(runtime: Any, **context_options: Any) -> AsyncIterator[ConsoleBrowser]:
    """The app of ``jiahu serve`` on a real port and a desktop-sized Chromium context on it;
    both are closed afterwards, the browser first (its live pages hold open streams)."""
    from tests.browser import serving

    async with serving(console_app(runtime)) as (server, chromium):
        context = await chromium.new_context(**{"viewport": {"width": 1366, "height": 860},
                                                "locale": "zh-CN", **context_options})
        yield ConsoleBrowser(str(server.make_url("")).rstrip("/"), chromium, context, [])
