"""Who may use a console page: a logged-in member of staff with the page's permission.

A browser without a session is sent to the login page; a form without the session's CSRF token,
or a member of staff without the permission, gets 403 (backend.web.auth.require).
"""
from __future__ import annotations

import secrets
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDictProxy

from backend.console.pages import HEADERS, render_html
from backend.web.auth import Principal, principal, require

Form = MultiDictProxy["str | bytes | bytearray | web.FileField"]  # what request.post() gives


def _forbidden(who: Principal, scope: str) -> web.HTTPForbidden:
    html = render_html("forbidden.html.j2", who=who, nav=[("/console/", "工作台")], csrf=who.csrf or "",
                       flash=None, path="", hospital=None, scope=scope)
    return web.HTTPForbidden(text=html, content_type="text/html", headers=HEADERS)


async def staff(request: web.Request, scope: str | None = None) -> Principal:
    """The member of staff viewing a page (GET); without a session, a redirect to the login."""
    who = await principal(request)
    if who is None or who.via != "session":
        raise web.HTTPSeeOther("/console/login?next=" + quote(request.path_qs, safe=""))
    if scope is not None and not who.can(scope):
        raise _forbidden(who, scope)
    return who


async def staff_form(request: web.Request, scope: str | None = None) -> tuple[Principal, Form]:
    """The member of staff sending a form, checked for permission and the CSRF token."""
    form = await request.post()
    csrf = form.get("csrf")
    token = csrf if isinstance(csrf, str) else None
    if scope is None:
        who = await principal(request)
        if who is None or who.via != "session":
            raise web.HTTPUnauthorized(text="请先登录", headers=HEADERS)
        if not token or not who.csrf or not secrets.compare_digest(token, who.csrf):
            raise web.HTTPForbidden(text="CSRF token missing or wrong", headers=HEADERS)
        return who, form
    who = await require(request, scope, form_csrf=token)
    if who.via != "session":
        raise web.HTTPForbidden(text="the console is for staff sessions", headers=HEADERS)
    return who, form


def text_field(form: Form, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""
