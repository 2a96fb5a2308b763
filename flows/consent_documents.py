"""Sealing a signed consent: a durable job of its own, off every conversation's path.

The turn that records the signature queues a ``consent.seal`` job. ``seal_consent`` has the
rendering process (documents/render.py) render and seal the PDF and write it encrypted, with no
database transaction open (WeasyPrint and pyHanko take a few hundred milliseconds, and none of it
runs on the server's event loop). Then one short transaction records the PDF, stores the
agreement as a web page and the evidence record, records the seal and its audit entries, tells
the hospital, and queues a plain document message for the family (naming the stored PDF), which
the notifier delivers like any other message. If recording fails, the files written for it are
deleted before the transaction rolls back, and the job is retried.

What the family opens is the web page: the agreement as text that reflows on a phone, with the
sealed PDF's download link on top; staff open the PDF itself. No page images are made: every
channel shows the link, and imaging the five pages cost as much CPU as rendering and sealing
them (~170 ms a consent, while the families' turns share the machine) and stored ~1 MB more.
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import audit, clock, notify
from backend.artefacts import StoredFile, discard_files, record_artefacts, signed_path, store_file
from backend.db import transaction
from backend.models import Consent, Intake, Notification
from documents import render
from documents.consent import ConsentContext, context_from_dict
from documents.evidence import canonical, evidence_record, evidence_sha256
from documents.pdf import agreement_html, render_and_seal
from flows.messages import t


async def seal_consent(sessions: async_sessionmaker[AsyncSession], job_id: int) -> bool:
    """Run one ``consent.seal`` job; False when its consent was superseded before sealing."""
    async with sessions() as session:
        job = await session.get_one(Notification, job_id)
        values: dict[str, Any] = (job.payload or {})["values"]
        consent = await session.get_one(Consent, int(values["consent_id"]))
        if consent.status == "superseded":  # changed after signing and signed again: never sealed
            return False
        context = context_from_dict(values["context"])
        context.events = list(consent.events)
    # no transaction is open while rendering
    sealed = await render.in_worker(_render_and_store, context, t(context.language, "consent.page.download"))
    written = [sealed.pdf]
    async with transaction(sessions) as session:
        try:
            await _record(session, job_id, sealed, context, written)
        except BaseException:
            discard_files(written)  # a few unlinks; the transaction rolls back, no row refers to them
            raise
    return True


_PDF_LINK = "about:jiahu-sealed-pdf"
"""Stands for the sealed PDF's signed link in the page until the PDF is stored and has an id."""


@dataclass(frozen=True)
class _Sealed:
    """A consent sealed in the rendering process: its PDF stored, not recorded."""

    pdf: StoredFile
    sha256: str  # of the sealed PDF
    development_seal: bool
    timestamp: datetime | None
    page: str  # the agreement as a web page, its link to the PDF still ``_PDF_LINK``


def _render_and_store(context: ConsentContext, download_label: str) -> _Sealed:
    """In the rendering process: render and seal the consent, write the PDF encrypted, and make
    the agreement's web page."""
    sealed = render_and_seal(context, with_pages=False)
    page = agreement_html(context, download=(download_label, _PDF_LINK))
    return _Sealed(pdf=store_file("consent", sealed.pdf), sha256=sealed.sha256,
                   development_seal=sealed.development_seal, timestamp=sealed.timestamp, page=page)


async def _record(session: AsyncSession, job_id: int, sealed: _Sealed, context: ConsentContext,
                  written: list[StoredFile]) -> None:
    """The short transaction: rows for the stored files, the web page and the evidence record
    (small, written here; added to ``written``), the seal, audit entries and messages."""
    job = await session.get_one(Notification, job_id)
    consent = await session.get_one(Consent, int((job.payload or {})["values"]["consent_id"]))
    [pdf] = await record_artefacts(session, owner_kind="consent", owner_id=consent.id, kind="consent_pdf",
                                   content_type="application/pdf", files=[sealed.pdf])
    filename = t(consent.language, "consent.filename", id=consent.document_id[:8])
    page = sealed.page.replace(_PDF_LINK, escape(signed_path(pdf.id, filename)), 1)
    consent.pdf_path, consent.pdf_sha256, consent.status = pdf.storage_path, sealed.sha256, "sealed"
    timestamp = sealed.timestamp.isoformat() if sealed.timestamp else None
    consent.events = [*consent.events, {"event": "sealed", "at": clock.now().isoformat(),
                                        "development": sealed.development_seal,
                                        **({"timestamp": timestamp} if timestamp else {})}]
    # The evidence record, stored beside the PDF and hashed into the audit chain.
    evidence = evidence_record(context, summary_sha256=consent.summary_sha256, pdf_sha256=sealed.sha256,
                               events=list(consent.events), development=sealed.development_seal,
                               timestamp=timestamp)
    html_file, evidence_file = await asyncio.to_thread(_store_files, [page.encode(), canonical(evidence)],
                                                     written)
    [html] = await record_artefacts(session, owner_kind="consent", owner_id=consent.id, kind="consent_page_html",
                                    content_type="text/html; charset=utf-8", files=[html_file])
    intake = await session.get_one(Intake, consent.intake_id)
    await audit.record(session, "system", "consent.sealed", f"consent:{consent.id}",
                       {"document_id": consent.document_id, "sha256": sealed.sha256})
    [stored] = await record_artefacts(session, owner_kind="consent", owner_id=consent.id, kind="consent_evidence",
                                      content_type="application/json", files=[evidence_file])
    await audit.record(session, "system", "consent.evidence", f"consent:{consent.id}",
                       {"document_id": consent.document_id, "sha256": evidence_sha256(evidence),
                        "artefact_id": stored.id})
    await notify.notify_hospital(session, "consent.sealed", {
        "document_id": consent.document_id, "sha256": sealed.sha256, "intake_id": intake.id,
        "signer": consent.signer_name, "evidence": evidence, "evidence_sha256": evidence_sha256(evidence)})
    await notify.notify_family(session, job.channel_user_id, "consent.document", message="consent.document",
                               values={"artefact_id": pdf.id, "filename": filename, "html_id": html.id,
                                       "html_name": t(consent.language, "consent.page.filename")})


def _store_files(items: Sequence[bytes], written: list[StoredFile]) -> list[StoredFile]:
    """Encrypt and write each item (blocking), noting each in ``written`` as soon as it exists."""
    stored = []
    for data in items:
        stored.append(store_file("consent", data))
        written.append(stored[-1])
    return stored
