"""Who is asking: a console session (encrypted cookie, CSRF token) or an API bearer token.

Roles map to scopes, tokens carry scopes of their own; every request without the right one gets
401 (nobody) or 403 (somebody without the right), never data.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

from aiohttp import web
from cryptography.fernet import InvalidToken
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import clock
from backend.crypto import current_vault
from backend.models import StaffAccount
from backend.staff import SCOPES, token_for

SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
PRINCIPAL = web.RequestKey("principal", object)
COOKIE = "jiahu_staff"
SESSION_SECONDS = 8 * 3600
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "hotline": frozenset({"transcripts:read", "transcripts:write", "complaints:read", "complaints:write",
                          "bookings:read", "uploads:read", "data_requests:read", "data_requests:write"}),
    "nurse_manager": frozenset({"bookings:read", "bookings:write", "care_workers:read", "care_workers:write",
                                "consents:read", "visits:write", "stats:read", "complaints:read",
                                "transcripts:read", "transcripts:write", "uploads:read", "slots:write"}),
    "admin": frozenset(SCOPES) | {"staff:admin"},
}


@dataclass(frozen=True)
class Principal:
    """The caller: a member of staff (by session) or a system (by token)."""

    actor: str
    scopes: frozenset[str]
    via: str  # "session" or "token"
    role: str | None = None
    staff_id: int | None = None
    csrf: str | None = None
    display_name: str = field(default="")

    def can(self, scope: str) -> bool:
        return scope in self.scopes


def session_cookie(account: StaffAccount) -> tuple[str, str]:
    """An encrypted cookie value for a logged-in member of staff, and its CSRF token."""
    csrf = secrets.token_urlsafe(24)
    body = {"sid": account.id, "csrf": csrf, "exp": clock.timestamp() + SESSION_SECONDS}
    return current_vault().encrypt_text(json.dumps(body)), csrf


def set_session(response: web.StreamResponse, account: StaffAccount, *, secure: bool = False) -> str:
    value, csrf = session_cookie(account)
    response.set_cookie(COOKIE, value, max_age=SESSION_SECONDS, httponly=True, samesite="Strict",
                        secure=secure, path="/")
    return csrf


def clear_session(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")


async def principal(request: web.Request) -> Principal | None:
    """The caller of this request, or None. Cached on the request."""
    if PRINCIPAL in request:
        return request[PRINCIPAL]  # type: ignore[return-value]
    found: Principal | None = None
    sessions = request.app[SESSIONS]
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        async with sessions() as session, session.begin():
            token = await token_for(session, header.removeprefix("Bearer ").strip())
            if token is not None:
                found = Principal(actor=f"token:{token.name}", scopes=frozenset(token.scopes), via="token")
    elif COOKIE in request.cookies:
        try:
            body = json.loads(current_vault().decrypt_text(request.cookies[COOKIE]))
        except (InvalidToken, ValueError):
            body = None
        if body and body.get("exp", 0) > clock.timestamp():
            async with sessions() as session:
                account = await session.get(StaffAccount, int(body["sid"]))
            if account is not None and account.active:
                found = Principal(actor=account.username, scopes=ROLE_SCOPES.get(account.role, frozenset()),
                                  via="session", role=account.role, staff_id=account.id,
                                  csrf=body.get("csrf"), display_name=account.display_name)
    request[PRINCIPAL] = found
    return found


async def require(request: web.Request, scope: str, *, form_csrf: str | None = None) -> Principal:
    """The caller, when allowed ``scope``; otherwise 401 or 403. Session callers changing
    something must send the CSRF token (header ``X-CSRF-Token`` or the form field)."""
    who = await principal(request)
    if who is None:
        raise web.HTTPUnauthorized(text=json.dumps({"error": "authentication required"}),
                                   content_type="application/json",
                                   headers={"WWW-Authenticate": 'Bearer realm="jiahu"'})
    if not who.can(scope):
        raise web.HTTPForbidden(text=json.dumps({"error": f"missing permission {scope}"}),
                                content_type="application/json")
    if who.via == "session" and request.method in UNSAFE:
        sent = request.headers.get("X-CSRF-Token") or form_csrf
        if not sent or not who.csrf or not secrets.compare_digest(sent, who.csrf):
            raise web.HTTPForbidden(text=json.dumps({"error": "CSRF token missing or wrong"}),
                                    content_type="application/json")
    return who
