"""A conversation as a PDF for the patient's file: WeasyPrint with Noto CJK, no seal (it is a
transcript, not the consent)."""
from __future__ import annotations

import asyncio
import threading
import warnings

from backend import clock
from backend.console.pages import TEMPLATES, render_html
from backend.console.reads import chosen_labels
from backend.models import ChannelUser, Patient, TranscriptEntry, Upload

# WeasyPrint (Pango, fontconfig) is not known to be thread-safe: one render at a time.
_lock = threading.Lock()


def _render(html: str) -> bytes:
    from weasyprint import CSS, HTML

    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        css = CSS(filename=str(TEMPLATES / "transcript_pdf.css"))
        return HTML(string=html).write_pdf(stylesheets=[css])  # type: ignore[no-any-return]


async def transcript_pdf(*, user: ChannelUser, entries: list[TranscriptEntry], patient: Patient | None,
                         attached: dict[int, list[Upload]], exported_by: str) -> bytes:
    html = render_html("transcript_pdf.html.j2", user=user, entries=entries, patient=patient,
                       attached=attached, chosen=chosen_labels(entries), exported_by=exported_by,
                       exported_at=clock.now())
    return await asyncio.to_thread(_render, html)
