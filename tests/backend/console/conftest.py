"""The whole jiahu app with the console, members of staff of each role, and a logged-in client."""
from __future__ import annotations

import re
from collections.abc import AsyncIterator
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
