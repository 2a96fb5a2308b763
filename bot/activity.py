"""Whether the families' turns keep this process busy, so that work that can wait (sealing a
consent) waits for a lull in a burst instead of slowing them.

The rendering process already runs at idle priority (documents/render.py), yet on a small
machine a render beside a burst of turns still slowed them: it fills the gaps between turns and
the caches with its own work, and the turns around it ran slower. ``bench/wechat_webhook.py
--seal 4 --seal-rounds 9`` (20 senders, on two cores shared with the load client), p99 of the
rounds while four consents were sealed against the rounds after, medians of nine pairs, two runs
each alternating: sealing at once 83.0/74.2 and 90.2/79.1 ms; waiting for a lull 91.1/91.7 and
72.4/75.6 ms (the consents sealed after the burst, or within it when a lull came first). A
signed consent waits at most ``bot.notifier.SEAL_WAITS_AT_MOST`` for its seal.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class Turns:
    """The turns in flight in this process (``bot.limits.handle`` counts every channel's)."""

    def __init__(self) -> None:
        self.in_flight = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    async def busy(self, looks: int = 10, apart: float = 0.01) -> bool:
        """True in a burst: a turn in flight now and in at least half of ``looks`` taken
        ``apart`` seconds from now on. One family's turn now and then is no burst; False at
        once when no turn is in flight."""
        if not self.in_flight:
            return False
        seen = 1
        for _ in range(looks - 1):
            await asyncio.sleep(apart)
            seen += self.in_flight > 0
        return 2 * seen >= looks


turns = Turns()
"""This process's turns."""
