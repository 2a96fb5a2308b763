"""The staff console: server-rendered pages for hotline staff, nurse managers and admins."""
from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register the console routes under /console (uses ``backend.web.auth.SESSIONS``)."""
