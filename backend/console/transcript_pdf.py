"""A conversation as a PDF for the patient's file: WeasyPrint with Noto CJK, no seal (it is a
transcript, not the consent)."""
from __future__ import annotations

from backend import clock
from backend.console.pages import TEMPLATES, render_html
from backend.console.reads import chosen_labels
from backend.models import ChannelUser, Patient, TranscriptEntry, Upload
from documents import render


async def transcript_pdf(*, user: ChannelUser, entries: list[TranscriptEntry], patient: Patient | None,
                         attached: dict[int, list[Upload]], exported_by: str) -> bytes:
    html = render_html("transcript_pdf.html.j2", user=user, entries=entries, patient=patient,
                       attached=attached, chosen=chosen_labels(entries), exported_by=exported_by,
                       exported_at=clock.now())
    return await render.html_to_pdf(html, TEMPLATES / "transcript_pdf.css")  # every PDF is made there
