"""The JSON REST API under /api/, described by /api/openapi.json.

Every route names the permission it needs (``backend.staff.SCOPES``) and is checked with
``backend.web.auth.require``; errors are JSON (``errors.json_errors``).
"""
from __future__ import annotations

from aiohttp import web

from . import (  # noqa: F401 - each module registers its routes
    bookings,
    complaints,
    conversations,
    data_requests,
    documents,
    exports,
    oversight,
    schedule,
    visits,
    workers,
)
from .errors import json_errors
from .openapi import OPENAPI_PATH, serve
from .routing import ROUTES, view


def setup(app: web.Application) -> None:
    """Register the API routes (uses ``backend.web.auth.SESSIONS`` from the app)."""
    app.middlewares.append(json_errors)
    for spec in ROUTES:
        app.router.add_route(spec.method, spec.path, view(spec), name=f"api.{spec.tag}.{spec.handler.__name__}"
                             .replace(" ", "_"))
    app.router.add_get(OPENAPI_PATH, serve, name="api.openapi")
