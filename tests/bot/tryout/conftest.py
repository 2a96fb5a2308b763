"""The jiahu app with ``/try`` mounted, and a browser that talks to its JSON API."""
from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer


def tryout_app(runtime: Any) -> web.Application:
    """``create_app`` with the try-out routes (mounted here until bot/app.py does it)."""
    from bot import tryout
    from bot.app import create_app

    app = create_app(runtime)
    if not any(resource.canonical == "/try" for resource in app.router.resources()):
        tryout.setup(app, runtime)
    return app


@dataclass
class Browser:
    """What the try-out page does: start, type, press buttons, upload; replies as JSON."""

    client: TestClient
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    last: list[dict[str, Any]] = field(default_factory=list)

    def next_id(self) -> str:
        return f"msg-{next(self.ids):06d}"

    async def post(self, path: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        response = await self.client.post(path, json=payload)
        assert response.status == 200, await response.text()
        self.last = (await response.json())["replies"]
        return self.last

    async def updates(self) -> list[dict[str, Any]]:
        """What the page's poll fetches: replies pushed since the last turn."""
        return await self.post("/try/api/updates", {})

    async def start(self) -> list[dict[str, Any]]:
        return await self.post("/try/api/start", {"message_id": self.next_id()})

    async def type(self, text: str, message_id: str | None = None) -> list[dict[str, Any]]:
        context = next((r["context"] for r in self.last if r["kind"] == "choices"), None)
        return await self.post("/try/api/message", {"message_id": message_id or self.next_id(),
                                                    "text": text, "context": context})

    async def press(self, label: str) -> list[dict[str, Any]]:
        """Press the button called ``label`` in the last replies."""
        reply, choice = next((r, c) for r in self.last if r["kind"] == "choices"
                             for c in r["choices"] if c["label"] == label)
        return await self.post("/try/api/message", {"message_id": self.next_id(),
                                                    "choice": choice["id"], "context": reply["context"]})

    def button(self, label: str) -> bool:
        return any(c["label"] == label for r in self.last if r["kind"] == "choices" for c in r["choices"])

    async def upload(self, data: bytes, content_type: str, filename: str) -> list[dict[str, Any]]:
        response = await self.client.post("/try/api/upload", data=self.form(data, content_type, filename))
        assert response.status == 200, await response.text()
        self.last = (await response.json())["replies"]
        return self.last

    def form(self, data: bytes, content_type: str, filename: str) -> Any:
        from aiohttp import FormData

        form = FormData()
        form.add_field("message_id", self.next_id())
        form.add_field("file", data, content_type=content_type, filename=filename)
        return form


def shown(replies: list[dict[str, Any]]) -> str:
    """The replies as the page shows them, as text."""
    lines = []
    for reply in replies:
        if reply.get("text"):
            lines.append(reply["text"])
        lines += [f"{c['number']}. {c['label']}" for c in reply.get("choices", [])]
        if reply["kind"] == "document":
            lines.append(f"[document: {reply['filename']}]")
    return "\n".join(lines)


@pytest.fixture
async def client(runtime: Any) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(tryout_app(runtime))) as client:
        yield client


@pytest.fixture
def browser(client: TestClient) -> Browser:
    return Browser(client)
