"""The service's one clock: every reading of the time in jiahu goes through here.

``now()`` is an aware UTC instant; ``today()`` is the date in the hospital's time zone, whose
day changes at local midnight (Beijing time by default), not at midnight UTC. A process runs on
the ``SystemClock``; tests and demonstrations install a ``PinnedClock`` so that "tomorrow",
"overdue" and "expired" mean the same on any day the code runs.
"""
from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from backend.config import hospital_config


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock: the only wall-clock reading of the service."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class PinnedClock:
    """A clock set to a chosen instant. It stands still (``ticking=False``) or moves on from
    that instant at the pace of the machine's monotonic clock, so that back-offs and leases
    still come due while the calendar stays where it was put."""

    def __init__(self, instant: datetime, *, ticking: bool = False) -> None:
        self.ticking = ticking
        self.set(instant)

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("a pinned instant needs a time zone")
        self._instant = instant.astimezone(UTC)
        self._since = time.monotonic()

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)

    def now(self) -> datetime:
        if not self.ticking:
            return self._instant
        return self._instant + timedelta(seconds=time.monotonic() - self._since)


_current: Clock = SystemClock()


def install(clock: Clock) -> Clock:
    """Make ``clock`` the process's clock; returns the one it replaces."""
    global _current
    previous, _current = _current, clock
    return previous


def current() -> Clock:
    return _current


def now() -> datetime:
    """The current instant (aware, UTC)."""
    return _current.now()


def timestamp() -> int:
    """The current instant in whole Unix seconds (link and session expiry)."""
    return int(_current.now().timestamp())


def zone() -> ZoneInfo:
    """The hospital's time zone (``hospital.yaml`` ``schedule.timezone``)."""
    return ZoneInfo(hospital_config().schedule.timezone)


def local_now() -> datetime:
    """The current instant in the hospital's time zone."""
    return _current.now().astimezone(zone())


def today() -> date:
    """The hospital's date: it changes at local midnight, not at midnight UTC."""
    return local_now().date()
