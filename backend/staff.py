"""Staff accounts (argon2 passwords, slowed-down failed logins) and scoped API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, clock
from backend.models import ApiToken, StaffAccount

ROLES = ("hotline", "nurse_manager", "admin")
SCOPES = ("bookings:read", "bookings:write", "consents:read", "visits:write", "complaints:read",
          "complaints:write", "transcripts:read", "transcripts:write", "stats:read", "uploads:read",
          "care_workers:read", "care_workers:write", "slots:write", "data_requests:read",
          "data_requests:write", "audit:read", "identifiers:read")
FREE_ATTEMPTS = 3
_hasher = PasswordHasher()


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
                           password_hash=_hasher.hash(password))
    session.add(account)
    await session.flush()
    await audit.record(session, actor, "staff.created", f"staff:{account.id}", {"role": role})
    return account


async def authenticate(session: AsyncSession, username: str, password: str) -> StaffAccount | LoginRefused:
    """Check a password; after three failures each further try waits longer (up to 5 minutes).

    A refusal is returned, not raised, so that the caller commits the failure count.
    """
    account = (await session.execute(select(StaffAccount).where(
        StaffAccount.username == username))).scalar_one_or_none()
    now = clock.now()
    if account is None or not account.active:
        _hasher.hash(password)  # same cost as a real check, so usernames cannot be probed
        return LoginRefused()
    if account.locked_until and account.locked_until > now:
        return LoginRefused(int((account.locked_until - now).total_seconds()) + 1)
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        account.failed_logins += 1
        if account.failed_logins >= FREE_ATTEMPTS:
            delay = min(2 ** (account.failed_logins - FREE_ATTEMPTS), 300)
            account.locked_until = now + timedelta(seconds=delay)
        await audit.record(session, username, "staff.login_failed", f"staff:{account.id}")
        return LoginRefused()
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


async def token_for(session: AsyncSession, secret: str) -> ApiToken | None:
    token = (await session.execute(select(ApiToken).where(
        ApiToken.token_hash == _hash_token(secret), ApiToken.revoked_at.is_(None)))).scalar_one_or_none()
    if token is not None:
        token.last_used_at = clock.now()
    return token
