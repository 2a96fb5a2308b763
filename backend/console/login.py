"""Logging in and out of the console (slowed-down failures come from backend.staff)."""
from __future__ import annotations

from aiohttp import web

from backend import audit
from backend.console.guard import staff_form
from backend.console.pages import render, see_other
from backend.db import transaction
from backend.staff import LoginRefused, authenticate
from backend.web.auth import (
    SESSIONS,
    clear_session,
    end_session,
    login_csrf,
    login_csrf_ok,
    principal,
    set_login_nonce,
    set_session,
    start_session,
)


def _next_page(value: str) -> str:
    """Only a console path: never send a member of staff to another site after login."""
    return value if value.startswith("/console") and not value.startswith("//") else "/console/"


def _form(request: web.Request, *, status: int = 200, error: str | None = None, username: str = "",
          next_page: str = "/console/") -> web.Response:
    nonce, token = login_csrf(request)
    response = render(request, None, "login.html.j2", http_status=status, error=error,
                      username=username, next=next_page, login_csrf=token)
    set_login_nonce(request, response, nonce)
    return response


async def login_page(request: web.Request) -> web.Response:
    if await principal(request) is not None and request.query.get("next") is None:
        raise see_other("/console/")
    return _form(request, next_page=_next_page(request.query.get("next", "")))


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    next_page = _next_page(str(form.get("next", "")))
    if not login_csrf_ok(request, str(form.get("login_csrf", ""))):  # login CSRF
        return _form(request, status=403, error="页面已过期，请重新登录", username=username,
                     next_page=next_page)
    result = await authenticate(request.app[SESSIONS], username, password)
    if isinstance(result, LoginRefused):
        error = (f"登录失败次数过多，请 {result.retry_after} 秒后再试" if result.retry_after
                 else "用户名或密码错误")
        return _form(request, status=401 if not result.retry_after else 429, error=error,
                     username=username, next_page=next_page)
    async with transaction(request.app[SESSIONS]) as session:
        token, _ = await start_session(session, result)
    response = see_other(next_page)
    set_session(response, token, secure=request.secure)
    raise response


async def logout(request: web.Request) -> web.Response:
    who, _ = await staff_form(request)
    async with transaction(request.app[SESSIONS]) as session:
        await end_session(session, request)
        await audit.record(session, who.actor, "staff.logout", f"staff:{who.staff_id}")
    response = see_other("/console/login")
    clear_session(response)
    raise response
