"""The staff console: server-rendered pages for hotline staff, nurse managers and admins.

Every page needs a staff session; what each role sees follows ``backend.web.auth.ROLE_SCOPES``.
"""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from backend.console import (
    bookings,
    complaints,
    conversations,
    dashboard,
    data_requests,
    live,
    login,
    schedule,
    stats,
    workers,
)

STATIC = Path(__file__).with_name("static")


def setup(app: web.Application) -> None:
    """Register the console routes under /console (uses ``backend.web.auth.SESSIONS``)."""
    add = app.router
    add.add_get("/console", dashboard.dashboard)
    add.add_get("/console/", dashboard.dashboard)
    add.add_get("/console/login", login.login_page)
    add.add_post("/console/login", login.login)
    add.add_post("/console/logout", login.logout)
    add.add_get("/console/conversations", conversations.search)
    add.add_get(r"/console/conversations/{user_id:\d+}", conversations.conversation)
    add.add_get(r"/console/conversations/{user_id:\d+}/transcript.pdf", conversations.export_pdf)
    add.add_post(r"/console/conversations/{user_id:\d+}/take-over", conversations.take_over)
    add.add_post(r"/console/conversations/{user_id:\d+}/message", conversations.message)
    add.add_post(r"/console/conversations/{user_id:\d+}/release", conversations.release)
    add.add_post(r"/console/conversations/{user_id:\d+}/notes", conversations.note)
    add.add_post(r"/console/conversations/{user_id:\d+}/phone", conversations.reveal_phone)
    add.add_get(r"/console/uploads/{upload_id:\d+}", conversations.upload)
    add.add_get("/console/bookings", bookings.booking_list)
    add.add_get(r"/console/bookings/{booking_id:\d+}", bookings.booking_page)
    add.add_post(r"/console/bookings/{booking_id:\d+}", bookings.change)
    add.add_get(r"/console/consents/{document_id}.pdf", bookings.consent_pdf)
    add.add_get("/console/workers", workers.worker_list)
    add.add_post("/console/workers", workers.add)
    add.add_get(r"/console/workers/{worker_id:\d+}", workers.worker_page)
    add.add_post(r"/console/workers/{worker_id:\d+}", workers.change)
    add.add_post(r"/console/workers/{worker_id:\d+}/active", workers.set_active)
    add.add_get("/console/complaints", complaints.complaint_list)
    add.add_get(r"/console/complaints/{complaint_id:\d+}", complaints.complaint_page)
    add.add_post(r"/console/complaints/{complaint_id:\d+}", complaints.change)
    add.add_post(r"/console/alarms/{report_id:\d+}/handled", dashboard.handle_alarm)
    add.add_get("/console/schedule", schedule.schedule)
    add.add_post("/console/schedule/slots", schedule.add)
    add.add_post(r"/console/schedule/slots/{slot_id:\d+}/capacity", schedule.capacity)
    add.add_get("/console/data-requests", data_requests.request_list)
    add.add_get(r"/console/data-requests/{request_id:\d+}", data_requests.request_page)
    add.add_post(r"/console/data-requests/{request_id:\d+}/erase", data_requests.erase)
    add.add_get("/console/stats", stats.statistics)
    add.add_get("/console/stats/funnel", stats.funnel_page)
    live.setup(app)
    add.add_static("/console/static", STATIC)
