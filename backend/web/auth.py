"""Who is asking: a console session (a random cookie token whose hash is a ``StaffSession``
row, ended by logout or after ``SESSION_SECONDS``, with its CSRF token) or an API bearer token.

Roles map to scopes, tokens carry scopes of their own; every request without the right one gets
401 (nobody) or 403 (somebody without the right), never data.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import clock
from backend.crypto import current_vault
from backend.models import StaffAccount, StaffSession
from backend.staff import SCOPES, token_for

SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
PRINCIPAL = web.RequestKey("principal", object)
COOKIE = "jiahu_staff"
LOGIN_COOKIE = "jiahu_login"
SESSION_SECONDS = 8 * 3600
LOGIN_FORM_SECONDS = 3600
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


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(session: AsyncSession, account: StaffAccount) -> tuple[str, str]:
    """A new console session for a member of staff: the cookie value and the CSRF token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(StaffSession(token_hash=_token_hash(token), staff_id=account.id, csrf=csrf,
                             expires_at=clock.now() + timedelta(seconds=SESSION_SECONDS)))
    await session.flush()
    return token, csrf


async def end_session(session: AsyncSession, request: web.Request) -> None:
    """Logout: the session of this request's cookie is over, whoever else holds the cookie."""
    token = request.cookies.get(COOKIE, "")
    await session.execute(update(StaffSession).where(StaffSession.token_hash == _token_hash(token),
                                                     StaffSession.ended_at.is_(None))
                          .values(ended_at=clock.now()))


def set_session(response: web.StreamResponse, token: str, *, secure: bool = False) -> None:
    response.set_cookie(COOKIE, token, max_age=SESSION_SECONDS, httponly=True, samesite="Strict",
                        secure=secure, path="/")


def clear_session(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")


def login_csrf(request: web.Request) -> tuple[str, str]:
    """The login form's CSRF pair (login CSRF): a random nonce for a cookie (``set_login_nonce``)
    and the form's token signed from it, so another site can neither read nor forge the pair."""
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not 20 <= len(nonce) <= 64:
        nonce = secrets.token_urlsafe(24)
    return nonce, current_vault().sign(f"login:{nonce}")


def set_login_nonce(request: web.Request, response: web.StreamResponse, nonce: str) -> None:
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=LOGIN_FORM_SECONDS, httponly=True,
                        samesite="Strict", secure=request.secure, path="/console/login")


def login_csrf_ok(request: web.Request, sent: str) -> bool:
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    return bool(nonce and sent) and secrets.compare_digest(sent, current_vault().sign(f"login:{nonce}"))


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
        async with sessions() as session:
            row = (await session.execute(
                select(StaffSession, StaffAccount).join(StaffAccount, StaffAccount.id == StaffSession.staff_id)
                .where(StaffSession.token_hash == _token_hash(request.cookies[COOKIE]),
                       StaffSession.ended_at.is_(None), StaffSession.expires_at > clock.now()))).first()
        if row is not None and row[1].active:
            staff_session, account = row
            found = Principal(actor=account.username, scopes=ROLE_SCOPES.get(account.role, frozenset()),
                              via="session", role=account.role, staff_id=account.id,
                              csrf=staff_session.csrf, display_name=account.display_name)
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
