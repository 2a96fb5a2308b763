"""CSV exports for the hospital's reports: masked unless asked, one access record each, safe to
open in a spreadsheet."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend import bookings
from backend.db import transaction
from backend.exports.csv_reports import BadRange, bookings_csv, masked_name, stats_csv
from backend.models import AuditEntry


def _rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff"), "Excel needs the byte-order mark to read UTF-8"
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


async def _actions(runtime, action: str) -> list[AuditEntry]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(AuditEntry).where(AuditEntry.action == action))).scalars())


async def test_bookings_are_exported_masked_with_an_access_record(booking_number, runtime, today):
    number = booking_number
    async with transaction(runtime.sessions) as session:
        text = await bookings_csv(session, today, today + timedelta(days=30), "manager")
        before = await bookings_csv(session, today - timedelta(days=30), today, "manager")
    [row] = _rows(text)
    assert row["booking_number"] == number and row["status"] == "requested"
    assert row["patient_name"] == "王**" and row["present_name"] == "张*"
    assert row["patient_id_number"].endswith("002X") and "1101051949" not in text
    assert row["patient_phone"].endswith("8000") and "13800138000" not in text
    assert row["address"] == "" and row["district"] == "朝阳区" and "望京" not in text
    assert row["barthel_score"] == "65" and row["services"]
    assert _rows(before) == []
    [first, second] = await _actions(runtime, "pii.bookings_exported")
    assert first.actor == "manager" and first.details["rows"] == 1
    assert first.details["full_identifiers"] is False and second.details["rows"] == 0


async def test_full_personal_data_only_when_asked_and_formulas_are_defused(booking_number, runtime, today):
    number = booking_number
    async with transaction(runtime.sessions) as session:
        booking = await bookings.by_number(session, number)
        booking.present_name = "=HYPERLINK(\"http://x\")"
    async with transaction(runtime.sessions) as session:
        text = await bookings_csv(session, today, today + timedelta(days=30), "admin", full_identifiers=True)
    [row] = _rows(text)
    assert row["patient_name"] == "王秀英" and row["patient_id_number"] == "11010519491231002X"
    assert row["patient_phone"] == "13800138000" and row["address"].startswith("北京市朝阳区")
    assert row["present_name"].startswith("'=")
    [entry] = await _actions(runtime, "pii.bookings_exported")
    assert entry.details["full_identifiers"] is True


async def test_statistics_as_csv(booking_number, runtime, today):
    async with transaction(runtime.sessions) as session:
        text = await stats_csv(session, today - timedelta(days=1), today + timedelta(days=30), "manager")
    rows = _rows(text)
    assert {"metric": "bookings_per_district", "key": "朝阳区", "day": "", "value": "1"} in rows
    assert {"metric": "bookings_by_state", "key": "requested", "day": "", "value": "1"} in rows
    assert rows[0] == {"metric": "since", "key": "", "day": (today - timedelta(days=1)).isoformat(), "value": ""}
    assert len(await _actions(runtime, "stats.exported")) == 1


async def test_a_bad_range_is_refused(runtime, today):
    async with transaction(runtime.sessions) as session:
        with pytest.raises(BadRange):
            await bookings_csv(session, today, today - timedelta(days=1), "manager")
        with pytest.raises(BadRange):
            await stats_csv(session, today - timedelta(days=400), today, "manager")


def test_names_keep_the_surname():
    assert masked_name("张丽") == "张*" and masked_name("欧阳娜娜") == "欧***" and masked_name("") == ""
