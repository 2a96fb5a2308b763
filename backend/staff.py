"""Staff accounts (argon2 passwords, slowed-down failed logins) and scoped API tokens.

argon2 is slow on purpose (tens of milliseconds of CPU), so it never runs on the event loop:
hashes are computed in a small thread pool, and when too many are already waiting a login is
refused at once ("try again in a second") instead of queueing without end.
"""
from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import audit, clock
from backend.db import transaction
from backend.models import ApiToken, StaffAccount, StaffSession

ROLES = ("hotline", "nurse_manager", "admin")
SCOPES = ("bookings:read", "bookings:write", "consents:read", "visits:write", "complaints:read",
          "complaints:write", "transcripts:read", "transcripts:write", "stats:read", "uploads:read",
          "care_workers:read", "care_workers:write", "slots:write", "data_requests:read",
          "data_requests:write", "audit:read", "identifiers:read")
FREE_ATTEMPTS = 3
MAX_DELAY_SECONDS = 300
HASHING_THREADS = 1
MAX_WAITING_HASHES = 16
"""Logins checked at once; beyond that a login is refused at once (429, retry in a second)."""
_hasher = PasswordHasher()
_pool = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="argon2")
_waiting = 0
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))  # checked for unknown names: same cost


async def _in_pool(function, *args):  # type: ignore[no-untyped-def]
    return await asyncio.get_running_loop().run_in_executor(_pool, function, *args)


async def hash_password(password: str) -> str:
    """The argon2 hash of ``password``, computed off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, password)


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _delay(failures: int) -> int:
    """Seconds to wait after ``failures`` failed logins in a row: 0 for the first three."""
    if failures < FREE_ATTEMPTS:
        return 0
    return min(2 ** (failures - FREE_ATTEMPTS), MAX_DELAY_SECONDS)


class _UnknownNames:
    """Failed logins under names that are no account, slowed down exactly like an account's, so
    a locked-out answer does not tell which names exist. Kept per process (bounded)."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._failures: OrderedDict[str, tuple[int, datetime]] = OrderedDict()

    def retry_after(self, name: str, now: datetime) -> int:
        failures, last = self._failures.get(name, (0, now))
        if not (delay := _delay(failures)):
            return 0
        left = (last + timedelta(seconds=delay) - now).total_seconds()
        return int(left) + 1 if left > 0 else 0

    def clear(self) -> None:
        self._failures.clear()

    def failed(self, name: str, now: datetime) -> None:
        failures, _ = self._failures.pop(name, (0, now))
        self._failures[name] = (failures + 1, now)
        while len(self._failures) > self._size:
            self._failures.popitem(last=False)


_unknown = _UnknownNames()


def forget_unknown_names() -> None:
    """Forget the failed logins under unknown names (tests start each from nothing)."""
    _unknown.clear()


class LoginRefused(Exception):
    """Wrong credentials, or too many recent failures (``retry_after`` seconds)."""

    def __init__(self, retry_after: int = 0) -> None:
        super().__init__("login refused")
        self.retry_after = retry_after


async def create_staff(session: AsyncSession, username: str, display_name: str, role: str,
                       password: str, actor: str = "cli") -> StaffAccount:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    account = StaffAccount(username=username, display_name=display_name, role=role,
                           password_hash=await hash_password(password))
    session.add(account)
    await session.flush()
    await audit.record(session, actor, "staff.created", f"staff:{account.id}", {"role": role})
    return account


class UnknownAccount(LookupError):
    """No staff account or token by that name or number."""


async def list_staff(session: AsyncSession) -> list[StaffAccount]:
    return list((await session.execute(select(StaffAccount).order_by(StaffAccount.username))).scalars())


async def _account(session: AsyncSession, username: str) -> StaffAccount:
    account = (await session.execute(select(StaffAccount).where(
        StaffAccount.username == username))).scalar_one_or_none()
    if account is None:
        raise UnknownAccount(f"no staff account named {username!r}")
    return account


async def _end_sessions(session: AsyncSession, account: StaffAccount) -> int:
    ended = await session.execute(update(StaffSession).where(
        StaffSession.staff_id == account.id, StaffSession.ended_at.is_(None)).values(ended_at=clock.now()))
    return int(ended.rowcount or 0)  # type: ignore[attr-defined]


async def set_active(session: AsyncSession, username: str, active: bool, actor: str = "cli") -> StaffAccount:
    """Disable an account (its console sessions end at once) or enable it again."""
    account = await _account(session, username)
    account.active = active
    ended = 0 if active else await _end_sessions(session, account)
    await audit.record(session, actor, "staff.enabled" if active else "staff.disabled", f"staff:{account.id}",
                       {"sessions_ended": ended})
    return account


async def reset_password(session: AsyncSession, username: str, password: str, actor: str = "cli") -> StaffAccount:
    """A new password; failed logins are forgotten and open console sessions end."""
    account = await _account(session, username)
    account.password_hash = await hash_password(password)
    account.failed_logins = 0
    account.locked_until = None
    ended = await _end_sessions(session, account)
    await audit.record(session, actor, "staff.password_reset", f"staff:{account.id}", {"sessions_ended": ended})
    return account


async def authenticate(sessions: async_sessionmaker[AsyncSession], username: str,
                       password: str) -> StaffAccount | LoginRefused:
    """Check a password; after three failures each further try waits longer (up to 5 minutes),
    for unknown names too. At most ``MAX_WAITING_HASHES`` checks run at once (others are told
    to retry in a second). It opens its own short transactions: no database lock is held while
    the password is checked in a thread."""
    global _waiting
    if _waiting >= MAX_WAITING_HASHES:
        return LoginRefused(1)
    _waiting += 1
    try:
        return await _authenticate(sessions, username, password)
    finally:
        _waiting -= 1


async def _authenticate(sessions: async_sessionmaker[AsyncSession], username: str,
                        password: str) -> StaffAccount | LoginRefused:
    async with transaction(sessions) as session:
        account = (await session.execute(select(StaffAccount).where(
            StaffAccount.username == username))).scalar_one_or_none()
    now = clock.now()
    if account is None or not account.active:
        name = username.casefold()
        if wait := _unknown.retry_after(name, now):
            return LoginRefused(wait)
        await _in_pool(_matches, _DUMMY_HASH, password)  # same cost as a real check
        _unknown.failed(name, now)
        return LoginRefused()
    if account.locked_until and account.locked_until > now:
        return LoginRefused(int((account.locked_until - now).total_seconds()) + 1)
    correct = await _in_pool(_matches, account.password_hash, password)
    async with transaction(sessions) as session:
        if not correct:
            failures = (await session.execute(
                update(StaffAccount).where(StaffAccount.id == account.id)
                .values(failed_logins=StaffAccount.failed_logins + 1)
                .returning(StaffAccount.failed_logins))).scalar_one()
            if delay := _delay(failures):
                await session.execute(update(StaffAccount).where(StaffAccount.id == account.id)
                                      .values(locked_until=now + timedelta(seconds=delay)))
            await audit.record(session, username, "staff.login_failed", f"staff:{account.id}")
            return LoginRefused()
        account = await session.get_one(StaffAccount, account.id, populate_existing=True)
        account.failed_logins = 0
        account.locked_until = None
        account.last_login_at = now
        await audit.record(session, username, "staff.login", f"staff:{account.id}")
    return account


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(session: AsyncSession, name: str, scopes: list[str], actor: str) -> tuple[ApiToken, str]:
    """A new bearer token; the secret is returned once and only its hash is stored."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
    secret = "jh_" + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=_hash_token(secret), scopes=scopes, created_by=actor)
    session.add(token)
    await session.flush()
    await audit.record(session, actor, "token.created", f"token:{token.id}", {"scopes": scopes})
    return token, secret


async def list_tokens(session: AsyncSession) -> list[ApiToken]:
    return list((await session.execute(select(ApiToken).order_by(ApiToken.id))).scalars())


async def revoke_token(session: AsyncSession, token_id: int, actor: str = "cli") -> ApiToken:
    """Revoke a bearer token for good (revoking it again changes nothing)."""
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise UnknownAccount(f"no API token number {token_id}")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        await audit.record(session, actor, "token.revoked", f"token:{token.id}", {"name": token.name})
    return token


async def token_for(session: AsyncSession, secret: str) -> ApiToken | None:
    token = (await session.execute(select(ApiToken).where(
        ApiToken.token_hash == _hash_token(secret), ApiToken.revoked_at.is_(None)))).scalar_one_or_none()
    if token is not None:
        token.last_used_at = clock.now()
    return token
