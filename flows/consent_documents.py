"""Sealing a signed consent: a durable job of its own, off every conversation's path.

The turn that records the signature queues a ``consent.seal`` job. ``seal_consent`` renders and
seals the PDF with no database transaction open (WeasyPrint and pyHanko take a few hundred
milliseconds), then one short transaction stores the PDF, its page images and the agreement as a
web page encrypted, records the seal and its audit entry, tells the hospital, and queues a plain
document message for the family, which the notifier delivers like any other message.

What the family opens is the web page: the agreement as text that reflows on a phone, with the
sealed PDF's download link on top (page images stay stored for staff and for channels that
cannot show a link).
"""
from __future__ import annotations

from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import audit, clock, notify
from backend.artefacts import signed_path, store_artefact
from backend.db import transaction
from backend.models import Consent, Intake, Notification
from documents.consent import ConsentContext, context_from_dict
from documents.evidence import canonical, evidence_record, evidence_sha256
from documents.pdf import SealedConsent, agreement_html, produce_sealed_consent
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
    sealed = await produce_sealed_consent(context)  # no transaction is open while rendering
    page = agreement_html(context, download=(t(context.language, "consent.page.download"), _PDF_LINK))
    async with transaction(sessions) as session:
        await _record(session, job_id, sealed, page, context)
    return True


_PDF_LINK = "about:jiahu-sealed-pdf"
"""Stands for the sealed PDF's signed link in the page until the PDF is stored and has an id."""


async def _record(session: AsyncSession, job_id: int, sealed: SealedConsent, page: str,
                  context: ConsentContext) -> None:
    job = await session.get_one(Notification, job_id)
    consent = await session.get_one(Consent, int((job.payload or {})["values"]["consent_id"]))
    pdf = await store_artefact(session, owner_kind="consent", owner_id=consent.id, kind="consent_pdf",
                               data=sealed.pdf, content_type="application/pdf")
    pages = [await store_artefact(session, owner_kind="consent", owner_id=consent.id, kind="consent_page",
                                  data=page, content_type="image/png") for page in sealed.pages]
    filename = t(consent.language, "consent.filename", id=consent.document_id[:8])
    page = page.replace(_PDF_LINK, escape(signed_path(pdf.id, filename)), 1)
    html = await store_artefact(session, owner_kind="consent", owner_id=consent.id, kind="consent_page_html",
                                data=page.encode(), content_type="text/html; charset=utf-8")
    consent.pdf_path, consent.pdf_sha256, consent.status = pdf.storage_path, sealed.sha256, "sealed"
    timestamp = sealed.timestamp.isoformat() if sealed.timestamp else None
    consent.events = [*consent.events, {"event": "sealed", "at": clock.now().isoformat(),
                                        "development": sealed.development_seal,
                                        **({"timestamp": timestamp} if timestamp else {})}]
    intake = await session.get_one(Intake, consent.intake_id)
    await audit.record(session, "system", "consent.sealed", f"consent:{consent.id}",
                       {"document_id": consent.document_id, "sha256": sealed.sha256})
    # The evidence record, stored beside the PDF and hashed into the audit chain.
    evidence = evidence_record(context, summary_sha256=consent.summary_sha256, pdf_sha256=sealed.sha256,
                               events=list(consent.events), development=sealed.development_seal,
                               timestamp=timestamp)
    stored = await store_artefact(session, owner_kind="consent", owner_id=consent.id, kind="consent_evidence",
                                  data=canonical(evidence), content_type="application/json")
    await audit.record(session, "system", "consent.evidence", f"consent:{consent.id}",
                       {"document_id": consent.document_id, "sha256": evidence_sha256(evidence),
                        "artefact_id": stored.id})
    await notify.notify_hospital(session, "consent.sealed", {
        "document_id": consent.document_id, "sha256": sealed.sha256, "intake_id": intake.id,
        "signer": consent.signer_name, "evidence": evidence, "evidence_sha256": evidence_sha256(evidence)})
    await notify.notify_family(session, job.channel_user_id, "consent.document", message="consent.document",
                               values={"artefact_id": pdf.id, "page_ids": [p.id for p in pages],
                                       "filename": filename, "html_id": html.id,
                                       "html_name": t(consent.language, "consent.page.filename")})
