"""Staff logins, tokens and the hash-chained audit log, on a real database."""
from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from backend import audit, staff
from backend.db import transaction
from backend.models import AuditEntry, StaffAccount
from bot.cli import app as cli


async def test_passwords_are_argon2_and_failed_logins_slow_down(runtime):
    async with transaction(runtime.sessions) as session:
        account = await staff.create_staff(session, "li.hua", "李华", "hotline", "correct horse battery")
        assert account.password_hash.startswith("$argon2")
    assert (await staff.authenticate(runtime.sessions, "li.hua", "correct horse battery")).role == "hotline"
    for _ in range(staff.FREE_ATTEMPTS):
        assert isinstance(await staff.authenticate(runtime.sessions, "li.hua", "wrong"), staff.LoginRefused)
    async with transaction(runtime.sessions) as session:
        locked = (await session.execute(select(StaffAccount))).scalar_one()
        assert locked.failed_logins == 3 and locked.locked_until is not None
    refused = await staff.authenticate(runtime.sessions, "li.hua", "correct horse battery")
    assert isinstance(refused, staff.LoginRefused) and refused.retry_after >= 1
    assert isinstance(await staff.authenticate(runtime.sessions, "nobody", "whatever"), staff.LoginRefused)


async def test_unknown_names_are_checked_off_the_loop_and_slowed_down_like_accounts(runtime, monkeypatch):
    threads: list[str] = []
    matches = staff._matches

    def spy(password_hash: str, password: str) -> bool:
        threads.append(threading.current_thread().name)
        return matches(password_hash, password)

    monkeypatch.setattr(staff, "_matches", spy)
    async with transaction(runtime.sessions) as session:
        await staff.create_staff(session, "li.hua", "李华", "hotline", "correct horse battery")
    answers = []
    for name in ("li.hua", "no.body"):
        for _ in range(staff.FREE_ATTEMPTS + 1):
            answers.append((name, (await staff.authenticate(runtime.sessions, name, "wrong")).retry_after > 0))
    assert answers == [(n, w) for n in ("li.hua", "no.body") for w in (False, False, False, True)]
    assert len(threads) == 2 * staff.FREE_ATTEMPTS
    assert all(t.startswith("argon2") for t in threads)  # never on the event loop's thread


async def test_a_flood_of_logins_is_refused_rather_than_queued(runtime):
    results = await asyncio.gather(*(staff.authenticate(runtime.sessions, f"guess{n}", "x")
                                     for n in range(3 * staff.MAX_WAITING_HASHES)))
    busy = [r for r in results if isinstance(r, staff.LoginRefused) and r.retry_after == 1]
    assert len(busy) >= staff.MAX_WAITING_HASHES


async def test_tokens_are_stored_hashed_with_scopes(runtime):
    async with transaction(runtime.sessions) as session:
        token, secret = await staff.create_token(session, "HIS", ["bookings:read"], actor="admin")
        assert secret not in token.token_hash
    async with transaction(runtime.sessions) as session:
        found = await staff.token_for(session, secret)
        assert found is not None and found.scopes == ["bookings:read"]
        assert await staff.token_for(session, secret + "x") is None
    with pytest.raises(ValueError):
        async with transaction(runtime.sessions) as session:
            await staff.create_token(session, "bad", ["everything"], actor="admin")


async def test_audit_chain_detects_changed_and_missing_entries(runtime):
    async with transaction(runtime.sessions) as session:
        for n in range(5):
            await audit.record(session, "tester", "thing.done", f"thing:{n}", {"n": n})
    async with runtime.sessions() as session:
        verdict = await audit.verify(session)
    assert verdict.ok and verdict.entries == 5
    async with transaction(runtime.sessions) as session:
        await session.execute(update(AuditEntry).where(AuditEntry.subject == "thing:2")
                              .values(details={"n": 99}))
    async with runtime.sessions() as session:
        verdict = await audit.verify(session)
    assert not verdict.ok and "changed" in verdict.problem
    async with transaction(runtime.sessions) as session:
        await session.execute(update(AuditEntry).where(AuditEntry.subject == "thing:2")
                              .values(details={"n": 2}))
        await session.execute(delete(AuditEntry).where(AuditEntry.subject == "thing:3"))
    async with runtime.sessions() as session:
        verdict = await audit.verify(session)
    assert not verdict.ok and "missing" in verdict.problem


def test_staff_add_and_audit_verify_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("JIAHU_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    runner = CliRunner()
    result = runner.invoke(cli, ["staff", "add", "wang", "--role", "nurse_manager", "--password", "-"])
    assert result.exit_code == 0, result.output
    assert "password (shown once):" in result.output
    result = runner.invoke(cli, ["staff", "add", "zhao", "--role", "boss", "--password", "-"])
    assert result.exit_code == 2 and "role must be one of" in result.output
    result = runner.invoke(cli, ["staff", "add", "zhao", "--role", "hotline"],
                           input="long enough pw\nlong enough pw\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0 and "intact: 2 entries" in result.output
