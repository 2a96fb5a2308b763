"""Structured logs with personal data masked (DOMAIN.md: privacy; ID numbers and phones).

Tracebacks are rendered as plain text without local variables (a failed turn's locals hold the
family's ID number and openid) and go through the same masking as every other field; records
of the standard library's loggers (aiohttp's) are masked by their formatter."""
from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

_ID = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    """Hide the middle of ID numbers and mobile numbers in free text."""
    text = _ID.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    return _PHONE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def _mask_event(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    return {k: mask_text(v) if isinstance(v, str) else v for k, v in event.items()}


class _MaskingFormatter(logging.Formatter):
    """The standard library's formatter (plain tracebacks, no locals), masked."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


class _StderrLogger:
    """Writes to whatever ``sys.stderr`` is at the time of the call (tests swap it)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def configure_logging(level: str = "INFO", json: bool | None = None) -> None:
    """Logs on stderr: one JSON object a line (what log collectors read, and cheaper to
    render than the console's aligned columns), or readable lines when ``json`` is False or, by
    default, when stderr is a terminal."""
    if json is None:
        json = not sys.stderr.isatty()
    logging.basicConfig(format="%(message)s", stream=sys.stderr, force=True, level=getattr(logging, level.upper(), logging.INFO))
    for handler in logging.getLogger().handlers:
        handler.setFormatter(_MaskingFormatter("%(message)s"))
    # WeasyPrint tells each rendering step ("Step 2 - Fetching and parsing CSS") at INFO
    logging.getLogger("weasyprint.progress").setLevel(max(logging.WARNING, logging.getLogger().level))
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso"),
                    # the traceback as plain text (never rich's, which shows local variables),
                    # before masking, so that exception messages are masked too
                    structlog.processors.format_exc_info, _mask_event, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.INFO)),
        logger_factory=lambda *args: _StderrLogger(),
    )
