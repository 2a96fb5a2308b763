"""CSV for the hospital's own reports: the bookings whose visit falls in a date range, and the
workload statistics (工作量统计分析) of that range.

Personal data is masked unless the caller asks and may see it (names to the surname, ID numbers
and phones to their last four digits, the address left out); every export writes an access
record (DOMAIN.md: 全程留痕). The text is UTF-8 with a byte-order mark, so Excel reads the Chinese,
and a cell a spreadsheet would run as a formula is quoted with a leading apostrophe.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, clock
from backend.config import catalogue
from backend.crypto import mask
from backend.models import Assessment, Booking, CareWorker, Patient, Slot
from backend.queries import workload

MAX_DAYS = 366
BOOKING_COLUMNS = (
    "booking_number", "status", "visit_date", "visit_start", "visit_end", "district", "service_codes",
    "services", "patient_name", "patient_sex", "patient_age", "patient_id_number", "patient_phone",
    "address", "barthel_score", "barthel_grade", "present_name", "present_relation", "present_phone",
    "nurse", "total_price", "requested_at", "arrived_at", "finished_at", "rating")
STATS_COLUMNS = ("metric", "key", "day", "value")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class BadRange(ValueError):
    """``since`` after ``until``, or a range longer than ``MAX_DAYS``."""


def check_range(since: date, until: date) -> None:
    if since > until:
        raise BadRange("since must not be after until")
    if (until - since).days > MAX_DAYS:
        raise BadRange(f"the range must not be longer than {MAX_DAYS} days")


def masked_name(name: str) -> str:
    """张丽 → 张*, 欧阳娜娜 → 欧***: the surname stays, so a report still reads."""
    return name[:1] + "*" * (len(name) - 1) if name else ""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(clock.zone()).isoformat(timespec="seconds")
    text = value.isoformat() if isinstance(value, date) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return "\ufeff" + out.getvalue()


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


async def bookings_csv(session: AsyncSession, since: date, until: date, actor: str, *,
                       full_identifiers: bool = False) -> str:
    """Bookings with a visit date in [since, until], soonest first, as CSV text."""
    check_range(since, until)
    rows = (await session.execute(
        select(Booking, Slot, Patient).join(Slot, Slot.id == Booking.slot_id)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(Slot.day >= since, Slot.day <= until).order_by(Slot.day, Slot.start, Booking.id))).all()
    intakes = {b.intake_id for b, _, _ in rows}
    grades: dict[int, tuple[int | str, str]] = {}
    for intake_id, score, grade in (await session.execute(
            select(Assessment.intake_id, Assessment.barthel_score, Assessment.barthel_grade)
            .where(Assessment.intake_id.in_(intakes)).order_by(Assessment.id))).all():
        grades[intake_id] = (score, grade)  # the latest assessment wins
    nurses = {w.id: f"{w.name}（{w.title}）" for w in (await session.execute(select(CareWorker).where(
        CareWorker.id.in_({b.nurse_id for b, _, _ in rows if b.nurse_id})))).scalars()}
    services = catalogue()

    def shown(value: str | None, keep: int = 4) -> str:
        return (value or "") if full_identifiers else mask(value, keep)

    lines = []
    for booking, slot, patient in rows:
        barthel = grades.get(booking.intake_id) or ("", "")
        lines.append((
            booking.number, booking.status, slot.day, slot.start.strftime("%H:%M"), slot.end.strftime("%H:%M"),
            booking.district, ";".join(booking.service_codes),
            "；".join(item.name_zh if (item := services.get(c)) else c for c in booking.service_codes),
            patient.name if full_identifiers else masked_name(patient.name), patient.sex,
            _age(patient.birth_date, slot.day), shown(patient.id_number), shown(patient.phone),
            booking.address if full_identifiers else "", *barthel,
            booking.present_name if full_identifiers else masked_name(booking.present_name),
            booking.present_relation, shown(booking.present_phone),
            nurses.get(booking.nurse_id or 0, ""), f"{booking.total_price:.2f}", booking.created_at,
            booking.arrived_at, booking.finished_at, booking.rating))
    await audit.record(session, actor, "pii.bookings_exported", "bookings",
                       {"since": since.isoformat(), "until": until.isoformat(), "rows": len(lines),
                        "full_identifiers": full_identifiers})
    return _csv(BOOKING_COLUMNS, lines)


def _stats_rows(stats: dict[str, Any]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = [
        ("visits_per_nurse_per_day", item["nurse"], item["day"], item["visits"])
        for item in stats["visits_per_nurse_per_day"]]
    for metric in ("bookings_per_district", "bookings_by_state", "bookings_per_service", "complaints_by_state"):
        rows += [(metric, key, "", count) for key, count in stats[metric].items()]
    rows += [("rating_average", "", "", stats["rating_average"]), ("ratings", "", "", stats["ratings"])]
    return rows


async def stats_csv(session: AsyncSession, since: date, until: date, actor: str) -> str:
    """The workload statistics of visits in [since, until] as CSV, one figure a row."""
    check_range(since, until)
    stats = await workload(session, since, until)
    await audit.record(session, actor, "stats.exported", "stats",
                       {"since": since.isoformat(), "until": until.isoformat()})
    return _csv(STATS_COLUMNS, [("since", "", since, ""), ("until", "", until, ""), *_stats_rows(stats)])
