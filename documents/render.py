"""The one way every PDF of the service is made (the sealed consent, the transcript).

``write_pdf`` renders HTML with WeasyPrint under one lock: WeasyPrint (Pango, fontconfig) is not
known to be thread-safe, so a process renders one document at a time. ``in_worker`` runs such
work in a separate process kept for it: rendering is pure Python for most of its few hundred
milliseconds, and in a thread it would hold the GIL that the event loop serving the families
needs (their turns took several times as long while a consent was sealed). The worker starts
with ``warm`` when ``jiahu serve`` starts (fonts, templates and the seal loaded), so the first
family does not wait for it. It runs at a lower CPU priority (``WORKER_NICENESS``): on a machine
with few cores a render competed with the server for the CPU, and the families' turns waited
while it ran; now the render takes what the turns leave, and only the sealing waits.

A job carries what the caller's process would have used: its ``JIAHU_`` settings and the time on
its clock (backend/clock.py), so a worker started earlier renders as the caller would.
"""
from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from backend import clock
from documents import patches

T = TypeVar("T")

WORKER_NICENESS = 10
"""How much lower the rendering process's CPU priority is than the server's (``os.nice``)."""

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def write_pdf(html: str, *, stylesheets: Sequence[Any] = (), font_config: Any = None,
              base_url: str | None = None, pdf_variant: str | None = None,
              user_agent_stylesheet: Any = None) -> bytes:
    """HTML to PDF bytes with WeasyPrint, one document at a time in this process.

    ``font_config`` defaults to the process's own (``shared_font_config``).
    ``user_agent_stylesheet`` (a ``CSS``) replaces WeasyPrint's HTML5 one, for documents whose
    elements it covers (``patches.html_with_user_agent_stylesheet``).
    """
    from weasyprint import HTML

    patches.apply()
    font_config = font_config or shared_font_config()
    html_type = (HTML if user_agent_stylesheet is None
                 else patches.html_with_user_agent_stylesheet(user_agent_stylesheet))
    with _lock, warnings.catch_warnings():
        # WeasyPrint 70 opens its sRGB profile for PDF/A and never closes it; the file is
        # freed (and warned about) inside write_pdf, so the warning is silenced just here.
        warnings.simplefilter("ignore", ResourceWarning)
        with _collection_paused():
            document = html_type(string=html, base_url=base_url).render(
                stylesheets=list(stylesheets), font_config=font_config)
            options = {"pdf_variant": pdf_variant} if pdf_variant else {}
            pdf: bytes = document.write_pdf(**options)
            del document  # let go before collection resumes (_collection_paused)
        return pdf


@lru_cache(maxsize=1)
def shared_font_config() -> Any:
    """The process's WeasyPrint font configuration, for every document made here: fontconfig and
    Pango's font map are set up once, and the lines ``weasyprint_speed``'s ``line_memo`` keeps,
    laid out with its fonts, serve every document (WeasyPrint would make a configuration for
    each document given none). For stylesheets without ``@font-face`` rules."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@contextmanager
def _collection_paused() -> Iterator[None]:
    """No garbage collection while WeasyPrint renders, and one of the young objects after.

    A render allocates about a million objects, and the collector ran some thirty times over
    them (~20 ms of a ~230 ms consent). Most are freed as they go out of use; what the render
    leaves in reference cycles (~7,000 objects a consent: WeasyPrint's URL fetcher, layout
    context, SVG definitions and what they hold) is collected once the document is let go,
    while it is still young (~3 ms). Left to the collector, it was moved on with the live
    document to the middle generation, collected there every ~12 consents in one pause of
    110–130 ms (one consent in twelve took twice as long)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.collect(0)
            gc.enable()


@dataclass(frozen=True)
class _Job:
    function: Callable[..., Any]
    args: tuple[Any, ...]
    settings: dict[str, str]
    now: datetime


async def in_worker(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in the rendering process (both picklable); its result.

    A worker that died is replaced for the next job; this one raises (an outbox job is retried).
    """
    job = _Job(function, args, _settings(), clock.now())
    pool = _worker_pool()
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, _run, job)  # type: ignore[no-any-return]
    except BrokenProcessPool:
        _forget(pool)
        raise


async def html_to_pdf(html: str, stylesheet: Path) -> bytes:
    """A PDF of ``html`` styled by one CSS file, made in the rendering process."""
    return await in_worker(_html_to_pdf, html, str(stylesheet))


def _html_to_pdf(html: str, stylesheet: str) -> bytes:
    from weasyprint import CSS

    return write_pdf(html, stylesheets=[CSS(filename=stylesheet)])


async def warm() -> None:
    """Start the rendering process and make one consent, so the first family does not wait."""
    from documents.pdf import warm_up

    await in_worker(warm_up)


def shutdown() -> None:
    """Stop the rendering process (it also stops with the interpreter)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: the server has threads (database, HTTP) that a fork would copy mid-work
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_yield_to_the_server)
        return _pool


def _forget(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None


def _yield_to_the_server() -> None:
    """In the worker, once: a lower CPU priority, so the server's turns run first. On Linux the
    worker is also an idle-class task (``SCHED_IDLE``): it runs only on a CPU nothing else wants,
    and a turn waking up takes the CPU from it at once. Under nice 10 alone a waking turn could
    wait its turn behind a render: the 20-sender p99 was 122–155 ms while four consents were
    sealed (against ~100 ms without), under SCHED_IDLE 105–112 ms."""
    os.nice(WORKER_NICENESS)
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:  # not allowed here (some sandboxes): nice 10 alone
            pass


def _settings() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith("JIAHU_")}


def _run(job: _Job) -> Any:
    """In the worker: take the caller's settings and time, then do the job."""
    _adopt(job.settings)
    clock.install(clock.PinnedClock(job.now, ticking=True))
    return job.function(*job.args)


def _adopt(settings: dict[str, str]) -> None:
    if settings == _settings():
        return
    from backend import config
    from backend.settings import get_settings

    for name in list(os.environ):
        if name.startswith("JIAHU_") and name not in settings:
            del os.environ[name]
    os.environ.update(settings)
    get_settings.cache_clear()
    config.reload()
