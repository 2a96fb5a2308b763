"""JSON errors for /api/: every failure answers {"error": "..."} with its status, never HTML and
never a traceback or personal data."""
from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

log = structlog.get_logger(__name__)

PREFIX = "/api"
_KEPT_HEADERS = ("WWW-Authenticate", "Allow")


class ApiError(Exception):
    """A refusal the caller can act on: status, a clear message and optional details; ``problem``
    names the domain refusal behind it (slot_full, not_qualified, …) for callers that word it
    themselves, such as the console."""

    def __init__(self, status: int, message: str, *, problem: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problem = problem
        self.details = details

    def response(self) -> web.Response:
        return error_response(self.status, self.message, **self.details)


def error_response(status: int, message: str, headers: dict[str, str] | None = None,
                   **details: Any) -> web.Response:
    body = {"error": message, **{k: v for k, v in details.items() if v is not None}}
    return web.Response(status=status, text=json.dumps(body, ensure_ascii=False),
                        content_type="application/json", headers=headers)


def _from_http(error: web.HTTPException) -> web.Response:
    headers = {name: error.headers[name] for name in _KEPT_HEADERS if name in error.headers}
    if error.content_type == "application/json" and error.text:
        return web.Response(status=error.status, text=error.text, content_type="application/json",
                            headers=headers)
    return error_response(error.status, (error.reason or "error").lower(), headers=headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error under /api/ into JSON; an unexpected one is logged by type only (its
    message may hold personal data) with a reference the caller can quote."""
    if request.path != PREFIX and not request.path.startswith(PREFIX + "/"):
        return await handler(request)
    try:
        return await handler(request)
    except ApiError as error:
        return error.response()
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return _from_http(error)
    except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
        raise
    except Exception as error:  # noqa: BLE001 - the API answers JSON, whatever happened
        reference = secrets.token_hex(6)
        route = request.match_info.route.resource
        log.error("api.unexpected_error", reference=reference, error=type(error).__name__,
                  method=request.method, route=route.canonical if route is not None else None)
        return error_response(500, f"internal error (reference {reference})")
