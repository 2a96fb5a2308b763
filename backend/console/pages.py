"""Rendering console pages: the jinja2 environment, navigation by role, safe response headers."""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from backend import clock
from backend.config import catalogue, hospital_config
from backend.console import labels
from backend.web.auth import Principal

TEMPLATES = Path(__file__).with_name("templates")

# (path, label, scope a member of staff needs to see it); None = every member of staff
NAVIGATION: list[tuple[str, str, str | None]] = [
    ("/console/", "工作台", None),
    ("/console/conversations", "对话记录", "transcripts:read"),
    ("/console/bookings", "预约管理", "bookings:read"),
    ("/console/workers", "护理人员", "care_workers:read"),
    ("/console/schedule", "排班", "slots:write"),
    ("/console/complaints", "投诉建议", "complaints:read"),
    ("/console/data-requests", "个人信息申请", "data_requests:read"),
    ("/console/stats", "统计", "stats:read"),
]

FLASH = {
    "taken": "已接管对话，机器人暂停回复。", "sent": "消息已发送给家属。", "released": "已交还机器人。",
    "confirmed": "预约已确认，家属会收到通知。", "rejected": "预约已退回，家属会收到通知。",
    "assigned": "已指派护理人员，家属会收到通知。", "rescheduled": "预约已改期，家属会收到通知。",
    "cancelled": "预约已取消，家属会收到通知。",
    "worker_added": "已添加护理人员。", "worker_changed": "已保存护理人员信息。",
    "worker_deactivated": "已停用，不再派单。", "worker_activated": "已重新启用。", "complaint_assigned": "已指派处理人。",
    "answered": "答复已发送给家属。", "closed": "投诉已关闭。",
    "erased": "已按申请删除个人信息，家属会收到通知。", "alarm_handled": "报警已标记为已处理。",
    "capacity_changed": "时段容量已修改。", "noted": "备注已保存（家属看不到）。", "slot_added": "已开放新时段。",
}

HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; form-action 'self'; frame-ancestors 'none'"),
}


def _tz() -> ZoneInfo:
    return ZoneInfo(hospital_config().schedule.timezone)


def local(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A moment in the hospital's time zone."""
    return moment.astimezone(_tz()).strftime(pattern) if moment else ""


def hours_since(moment: datetime) -> int:
    return int((clock.now() - moment).total_seconds() // 3600)


def overdue(moment: datetime) -> bool:
    return moment < clock.now()


def weekday(day: date) -> str:
    return "周" + "一二三四五六日"[day.weekday()]


def service_name(code: str) -> str:
    item = catalogue().get(code)
    return item.name_zh if item else code


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(local=local, hours_since=hours_since, weekday=weekday, service=service_name,
                       overdue=overdue, mask_id=labels.mask_id_number, mask_phone=labels.mask_phone,
                       event_words=labels.event_words, duration=labels.duration)
    env.globals.update(BOOKING_STATES=labels.BOOKING_STATES, COMPLAINT_STATES=labels.COMPLAINT_STATES,
                       STAFF_ROLES=labels.STAFF_ROLES, WORKER_ROLES=labels.WORKER_ROLES,
                       CHANNELS=labels.CHANNELS, CONTACT=labels.CONTACT, LANGUAGES=labels.LANGUAGES,
                       RELATIONS=labels.RELATIONS, DATA_REQUEST_KINDS=labels.DATA_REQUEST_KINDS,
                       DATA_REQUEST_STATES=labels.DATA_REQUEST_STATES)
    return env


def render_html(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def render(request: web.Request, who: Principal | None, template: str, *, http_status: int = 200,
           **context: Any) -> web.Response:
    """A console page with the navigation ``who`` may use and the CSRF token for its forms."""
    nav = [(path, label) for path, label, scope in NAVIGATION if who and (scope is None or who.can(scope))]
    flash = FLASH.get(request.query.get("ok", ""))
    html = render_html(template, who=who, nav=nav, csrf=(who.csrf if who else "") or "", flash=flash,
                       path=request.path, hospital=hospital_config().hospital, **context)
    return web.Response(text=html, status=http_status, content_type="text/html", charset="utf-8",
                        headers=HEADERS)


def see_other(location: str, ok: str | None = None) -> web.HTTPSeeOther:
    """After a form: back to a page, with a one-word note of what was done."""
    if ok:  # the note goes into the query, before any #fragment
        path, hash_, fragment = location.partition("#")
        location = path + ("&" if "?" in path else "?") + f"ok={ok}" + hash_ + fragment
    return web.HTTPSeeOther(location, headers={"Cache-Control": "no-store"})
