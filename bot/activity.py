"""Whether the families' turns keep this process busy, so that work that can wait (sealing a
consent) waits for a lull in a burst instead of slowing them.

The rendering process already runs at idle priority (documents/render.py), yet on a small
machine a render beside a burst of turns still slowed them: it fills the gaps between turns and
the caches with its own work, and the turns around it ran slower. ``bench/wechat_webhook.py
--seal 4 --seal-rounds 9`` (20 senders, on two cores shared with the load client), p99 and max
of the rounds while four consents were sealed against the rounds after, medians of nine pairs,
two runs each, alternating: sealing at once 86.2/73.9 and 81.8/70.7 ms (max 117.9/76.8 and
108.4/72.1); waiting for a lull 75.4/81.3 and 75.9/77.2 ms (max 79.4/83.0 and 80.0/88.2), the
consents sealed 4–6 s after they were queued, once the round was over. A signed consent waits
at most ``bot.notifier.SEAL_WAITS_AT_MOST`` for its seal.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from math import inf


class Turns:
    """The turns of this process (``bot.limits.handle`` counts every channel's): how many are in
    flight, how many have started, and when the last one did (``time.monotonic``)."""

    RECENT = 0.2  # seconds: with no turn in flight and none started since, the process is idle

    def __init__(self) -> None:
        self.in_flight = 0
        self.started = 0
        self.last_started = -inf

    @contextmanager
    def turn(self) -> Iterator[None]:
        self.in_flight += 1
        self.started += 1
        self.last_started = time.monotonic()
        try:
            yield
        finally:
            self.in_flight -= 1

    async def busy(self, looks: int = 10, apart: float = 0.01) -> bool:
        """True in a burst: over ``looks`` looks ``apart`` seconds apart, a turn in flight at
        half of them or more, or a turn started for each look (a turn is short, and in a burst
        of short ones none may be in flight at the moment of a look). False at once when no
        turn is in flight and none started in the last ``RECENT`` seconds; one family's turn
        now and then is no burst."""
        if not self.in_flight and time.monotonic() - self.last_started > self.RECENT:
            return False
        started, seen = self.started, 0
        for _ in range(looks):
            await asyncio.sleep(apart)
            seen += self.in_flight > 0
        return 2 * seen >= looks or self.started - started >= looks


turns = Turns()
"""This process's turns."""
