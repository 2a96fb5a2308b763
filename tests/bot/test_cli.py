"""``jiahu export``: a booking as FHIR, bookings and statistics as CSV, from the command line."""
from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import timedelta

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from typer.testing import CliRunner

from backend.models import AuditEntry
from bot.cli import app as cli
from bot.notifier import deliver_notifications


async def _jiahu(*args: str):  # type: ignore[no-untyped-def]
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def _booked(dialogue, runtime) -> str:  # type: ignore[no-untyped-def]
    await dialogue.intake()
    runtime.senders.pop("terminal", None)
    await deliver_notifications(runtime)
    return re.search(r"JH\d{12}", dialogue.log[-1]).group()  # type: ignore[union-attr]


async def test_export_fhir_prints_a_valid_bundle(dialogue, runtime, tmp_path):
    number = await _booked(dialogue, runtime)
    result = await _jiahu("export", "fhir", number)
    assert result.exit_code == 0, result.output
    bundle = Bundle.model_validate_json(result.stdout)
    assert bundle.identifier.value == number and "王秀英" in result.stdout
    assert "11010519491231002X" not in result.stdout
    full = await _jiahu("export", "fhir", number, "--full-identifiers", "--out", str(tmp_path / "b.json"))
    assert full.exit_code == 0 and "11010519491231002X" in (tmp_path / "b.json").read_text("utf-8")
    missing = await _jiahu("export", "fhir", "JH000000000000")
    assert missing.exit_code == 1 and "no booking JH000000000000" in missing.output
    async with runtime.sessions() as session:
        entries = (await session.execute(select(AuditEntry).where(
            AuditEntry.action == "pii.fhir_exported"))).scalars().all()
    assert [e.details["full_identifiers"] for e in entries] == [False, True]
    assert all(e.actor.startswith("cli:") for e in entries)


async def test_export_bookings_and_stats_as_csv(dialogue, runtime, today, tmp_path):
    number = await _booked(dialogue, runtime)
    until = (today + timedelta(days=30)).isoformat()
    result = await _jiahu("export", "bookings", "--since", today.isoformat(), "--until", until)
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["booking_number"] == number and row["patient_name"] == "王**"
    out = tmp_path / "bookings.csv"
    await _jiahu("export", "bookings", "--since", today.isoformat(), "--until", until, "--out", str(out))
    assert out.read_bytes().startswith("\ufeffbooking_number".encode())
    stats = await _jiahu("export", "stats", "--since", today.isoformat(), "--until", until)
    assert stats.exit_code == 0 and "bookings_per_district,朝阳区,,1" in stats.stdout
    backwards = await _jiahu("export", "bookings", "--since", until, "--until", today.isoformat())
    assert backwards.exit_code == 2 and "since must not be after until" in backwards.output
