"""WAL checkpoints of a serving process, on a thread and a connection of their own.

In WAL mode a commit appends pages to the ``-wal`` file; a checkpoint copies them back into the
database file and, with ``synchronous=NORMAL``, syncs both files to disk. SQLite runs one by
itself inside the commit that takes the log past ``wal_autocheckpoint`` pages (1,000 by
default): under load, every few hundred turns one commit took 10–35 ms, the event loop stood
still meanwhile, and every conversation in flight waited with it (the 20-sender bench's p99).

A serving process instead checkpoints every second from this thread, in ``PASSIVE`` mode: it
copies what readers no longer need and never waits for or blocks the writer, and ``sqlite3``
lets go of the GIL while it copies and syncs. The connections of every process raise their own
threshold to ``WAL_AUTOCHECKPOINT_PAGES`` (``backend.db.make_engine``), a safety net should the
thread fall behind, and what a short-lived command (the CLI) does by itself.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import structlog
from sqlalchemy.engine import URL, make_url

log = structlog.get_logger(__name__)

WAL_AUTOCHECKPOINT_PAGES = 10_000
"""How long the log may grow before a commit checkpoints it itself (about 40 MB of 4 KB pages)."""
CHECKPOINT_INTERVAL_SECONDS = 1.0


class WalCheckpointer:
    """Checkpoints one SQLite database's WAL every ``interval`` seconds until ``stop``."""

    def __init__(self, path: Path, interval: float = CHECKPOINT_INTERVAL_SECONDS) -> None:
        self.path = path
        self.interval = interval
        self.checkpoints = 0  # completed so far (tests read it)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jiahu-wal-checkpoint", daemon=True)

    def start(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after the checkpoint under way, if any (a few milliseconds)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as error:
            log.warning("wal.checkpointer_not_started", error=str(error))
            return
        try:
            while not self._stop.wait(self.interval):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as error:  # a full disk, say: the next second tries again
                    log.warning("wal.checkpoint_failed", error=str(error))
        finally:
            connection.close()


def database_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL (``sqlite+driver:///path``); None for memory or another database."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)
