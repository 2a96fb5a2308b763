"""Standard exports for the hospital's systems: a booking as a FHIR R4 Bundle, bookings and the
workload statistics as CSV for its reports. Each export writes an access record; personal data is
masked unless asked with ``identifiers=full`` by a caller holding ``identifiers:read``."""
from __future__ import annotations

from datetime import date, timedelta

from aiohttp import web

from backend import clock
from backend.exports.csv_reports import BadRange, bookings_csv, stats_csv
from backend.exports.fhir_bundle import NotFound, booking_bundle, bundle_json

from .bookings import NUMBER
from .errors import ApiError
from .routing import Call, not_found, route
from .schemas import FhirQuery, ReportRange, StatsRange

FULL = "identifiers:read"
DEFAULT_DAYS = 30
_PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _full(call: Call, identifiers: str) -> bool:
    if identifiers != "full":
        return False
    if not call.who.can(FULL):
        raise ApiError(403, f"identifiers=full needs the permission {FULL}")
    return True


def _range(query: StatsRange) -> tuple[date, date]:
    until = query.until or clock.today()
    return query.since or until - timedelta(days=DEFAULT_DAYS), until


def _csv(text: str, name: str) -> web.Response:
    return web.Response(body=text.encode("utf-8"), content_type="text/csv", charset="utf-8", headers={
        **_PRIVATE, "Content-Disposition": f'attachment; filename="{name}"'})


@route("GET", f"/api/bookings/{NUMBER}/fhir", scope="bookings:read", tag="exports", query=FhirQuery,
       media_type="application/fhir+json", errors=(404,))
async def fhir(call: Call) -> web.Response:
    """The booking as a FHIR R4 Bundle: patient, applicant and person present, pre-assessment
    (Barthel, LOINC), consent with the sealed PDF's hash, appointment, provenance."""
    full = _full(call, call.query_as(FhirQuery).identifiers)
    try:
        bundle = await booking_bundle(call.session, call.arg("number"), call.actor, full_identifiers=full)
    except NotFound:
        raise not_found("booking") from None
    return web.Response(text=bundle_json(bundle), content_type="application/fhir+json", headers=_PRIVATE)


@route("GET", "/api/reports/bookings.csv", scope="bookings:read", tag="exports", query=ReportRange,
       media_type="text/csv")
async def bookings_report(call: Call) -> web.Response:
    """Bookings with a visit date in the range as CSV (UTF-8 with BOM, for Excel)."""
    query = call.query_as(ReportRange)
    full = _full(call, query.identifiers)
    since, until = _range(query)
    try:
        text = await bookings_csv(call.session, since, until, call.actor, full_identifiers=full)
    except BadRange as error:
        raise ApiError(400, str(error)) from None
    return _csv(text, f"bookings-{since}-{until}.csv")


@route("GET", "/api/reports/stats.csv", scope="stats:read", tag="exports", query=StatsRange,
       media_type="text/csv")
async def stats_report(call: Call) -> web.Response:
    """The workload statistics of the visits in the range as CSV, one figure a row."""
    since, until = _range(call.query_as(StatsRange))
    try:
        text = await stats_csv(call.session, since, until, call.actor)
    except BadRange as error:
        raise ApiError(400, str(error)) from None
    return _csv(text, f"stats-{since}-{until}.csv")
