"""Staff logins, tokens and the hash-chained audit log, on a real database."""
from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from backend import audit, staff
from backend.db import transaction
from backend.models import AuditAnchor, AuditEntry, StaffAccount
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
    unknown = f"no.body.{uuid.uuid4().hex[:8]}"  # unknown names are remembered per process
    for name in ("li.hua", unknown):
        for _ in range(staff.FREE_ATTEMPTS + 1):
            answers.append((name, (await staff.authenticate(runtime.sessions, name, "wrong")).retry_after > 0))
    assert answers == [(n, w) for n in ("li.hua", unknown) for w in (False, False, False, True)]
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


async def _five_entries(runtime) -> None:  # type: ignore[no-untyped-def]
    async with transaction(runtime.sessions) as session:
        for n in range(5):
            await audit.record(session, "tester", "thing.done", f"thing:{n}", {"n": n})


async def _verdict(runtime) -> audit.Verdict:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        return await audit.verify(session)


async def test_audit_chain_detects_the_newest_entries_removed(runtime):
    await _five_entries(runtime)
    async with transaction(runtime.sessions) as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.subject == "thing:4"))
    verdict = await _verdict(runtime)
    assert not verdict.ok and "newest entries were removed" in verdict.problem
    async with transaction(runtime.sessions) as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.subject.in_(["thing:2", "thing:3"])))
    assert not (await _verdict(runtime)).ok


async def test_audit_chain_detects_everything_removed(runtime):
    async with transaction(runtime.sessions) as session:
        await staff.create_staff(session, "li.hua", "李华", "hotline", "correct horse battery")
    await _five_entries(runtime)
    async with transaction(runtime.sessions) as session:
        await session.execute(delete(AuditEntry))
    verdict = await _verdict(runtime)
    assert not verdict.ok and "newest entries were removed" in verdict.problem
    async with transaction(runtime.sessions) as session:
        await session.execute(delete(AuditAnchor))
    verdict = await _verdict(runtime)
    assert not verdict.ok and "entries were removed" in verdict.problem


async def test_audit_chain_cannot_be_rehashed_without_the_key(runtime):
    import hashlib
    import json
    from datetime import UTC

    await _five_entries(runtime)
    async with transaction(runtime.sessions) as session:  # edit entry 3, recompute every hash after it
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
        prev = entries[1].entry_hash
        for entry in entries[2:]:
            details = {"n": 99} if entry.subject == "thing:2" else entry.details
            body = json.dumps({"prev": prev, "at": entry.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
                               "actor": entry.actor, "action": entry.action, "subject": entry.subject,
                               "details": details}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            new_hash = hashlib.sha256(body.encode()).hexdigest()
            await session.execute(update(AuditEntry).where(AuditEntry.id == entry.id).values(
                details=details, prev_hash=prev, entry_hash=new_hash))
            prev = new_hash
        await session.execute(update(AuditAnchor).values(head_hash=prev))
    verdict = await _verdict(runtime)
    assert not verdict.ok and "changed" in verdict.problem


async def test_the_audit_key_comes_from_the_secret_key(runtime, monkeypatch):
    from backend.settings import get_settings

    await _five_entries(runtime)
    assert (await _verdict(runtime)).ok
    monkeypatch.setattr(get_settings(), "secret_key", "another-deployment-key-0123456789")
    assert not (await _verdict(runtime)).ok


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


async def test_a_chain_written_before_keyed_hashing_is_anchored_by_the_migration(tmp_path, trained_recognizer):
    import asyncio
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from backend.db import make_engine, make_sessionmaker, upgrade_sync
    from backend.settings import get_settings
    from bot.runtime import open_runtime

    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    await asyncio.to_thread(upgrade_sync, url, "0004")
    engine = make_engine(url)
    prev = audit.GENESIS
    async with make_sessionmaker(engine)() as session, session.begin():
        for n in range(3):  # as the previous release wrote them: plain SHA-256
            at = datetime(2026, 11, 1, 9, n, tzinfo=UTC)
            digest = audit._legacy_digest(prev, at, "old", "thing.done", f"old:{n}", {"n": n})
            await session.execute(insert(AuditEntry).values(created_at=at, actor="old", action="thing.done",
                                                            subject=f"old:{n}", details={"n": n},
                                                            prev_hash=prev, entry_hash=digest))
            prev = digest
    await engine.dispose()
    await asyncio.to_thread(upgrade_sync, url)
    settings = get_settings()
    settings.database_url = url
    runtime = await open_runtime(settings, migrate=False, recognizer=trained_recognizer)
    try:
        assert (await _verdict(runtime)).ok
        await _five_entries(runtime)
        verdict = await _verdict(runtime)
        assert verdict.ok and verdict.entries == 8
        async with transaction(runtime.sessions) as session:
            await session.execute(delete(AuditEntry).where(AuditEntry.subject == "thing:4"))
        assert not (await _verdict(runtime)).ok
    finally:
        await runtime.close()


def test_staff_list_disable_reset_password_and_token_list_revoke_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("JIAHU_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    runner = CliRunner()
    assert "no staff accounts yet" in runner.invoke(cli, ["staff", "list"]).output
    runner.invoke(cli, ["staff", "add", "li.min", "--role", "hotline", "--name", "李敏", "--password", "-"])
    listed = runner.invoke(cli, ["staff", "list"])
    assert listed.exit_code == 0 and "li.min\thotline\t李敏\tactive\tlast login never" in listed.output

    disabled = runner.invoke(cli, ["staff", "disable", "li.min"])
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    assert "li.min\thotline\t李敏\tdisabled" in runner.invoke(cli, ["staff", "list"]).output
    unknown = runner.invoke(cli, ["staff", "disable", "nobody"])
    assert unknown.exit_code == 1 and "no staff account named 'nobody'" in unknown.output
    assert runner.invoke(cli, ["staff", "enable", "li.min"]).exit_code == 0

    short = runner.invoke(cli, ["staff", "reset-password", "li.min", "--password", "short"])
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    reset = runner.invoke(cli, ["staff", "reset-password", "li.min", "--password", "-"])
    assert reset.exit_code == 0 and "password (shown once):" in reset.output

    secret = runner.invoke(cli, ["staff", "token", "HIS", "--scope", "bookings:read"]).output.split()[-1]
    assert secret.startswith("jh_")
    tokens = runner.invoke(cli, ["token", "list"])
    assert tokens.exit_code == 0 and "1\tHIS\tbookings:read\tcreated" in tokens.output and "active" in tokens.output
    assert secret not in tokens.output
    revoked = runner.invoke(cli, ["token", "revoke", "1"])
    assert revoked.exit_code == 0 and "token 1 (HIS) revoked" in revoked.output
    assert "revoked 20" in runner.invoke(cli, ["token", "list"]).output
    missing = runner.invoke(cli, ["token", "revoke", "7"])
    assert missing.exit_code == 1 and "no API token number 7" in missing.output
    audit_log = runner.invoke(cli, ["audit", "verify"])
    assert audit_log.exit_code == 0 and "intact: 6 entries" in audit_log.output


async def test_a_disabled_account_or_a_new_password_ends_open_sessions_and_a_revoked_token_is_refused(runtime):
    from aiohttp.test_utils import TestClient, TestServer

    from tests.backend.api.helpers import make_token
    from tests.backend.console.conftest import Staff, console_app

    async with transaction(runtime.sessions) as session:
        await staff.create_staff(session, "li.min", "李敏", "hotline", "correct horse battery")
    hospital = await make_token(runtime, "HIS", "bookings:read")
    async with TestClient(TestServer(console_app(runtime), host="127.0.0.1")) as client:
        member = Staff(client)
        await member.login("li.min")
        assert (await client.get("/console/", allow_redirects=False)).status == 200
        async with transaction(runtime.sessions) as session:
            await staff.reset_password(session, "li.min", "another long password")
        assert (await client.get("/console/", allow_redirects=False)).status == 303
        await member.login("li.min", "another long password")
        async with transaction(runtime.sessions) as session:
            await staff.set_active(session, "li.min", False)
        assert (await client.get("/console/", allow_redirects=False)).status == 303
        assert (await client.get("/api/bookings", headers=hospital)).status == 200
        async with transaction(runtime.sessions) as session:
            token = (await staff.list_tokens(session))[0]
            await staff.revoke_token(session, token.id)
        assert (await client.get("/api/bookings", headers=hospital)).status == 401
