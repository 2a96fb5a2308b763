"""Debian's headless Chromium for the browser tests, started the same way everywhere."""
from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# The server under test runs in the test process on the service's pinned clock; the browser's
# own clock decides nothing. When the suite runs under libfaketime (to prove it passes on any
# day), Chromium must not inherit the preload: it hangs with a faked clock.
_FAKETIME = ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC", "DONT_FAKE_MONOTONIC")


async def launch(playwright: Any) -> Any:
    env = {name: value for name, value in os.environ.items() if name not in _FAKETIME}
    return await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, env=env)


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[tuple[Any, Any]]:
    """``app`` on a real port of 127.0.0.1 and Chromium to open it: yields (server, browser);
    both are closed afterwards, the browser first (its live pages may hold open streams)."""
    from aiohttp.test_utils import TestServer
    from playwright.async_api import async_playwright

    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with async_playwright() as playwright:
            chromium = await launch(playwright)
            try:
                yield server, chromium
            finally:
                await chromium.close()
    finally:
        await server.close()
