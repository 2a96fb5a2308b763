"""The JSON REST API under /api/, described by /api/openapi.json."""
from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register the API routes (uses ``backend.web.auth.SESSIONS`` from the app)."""
