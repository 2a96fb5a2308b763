"""The signed consent as a sealed PDF, made in the background and delivered to the family.

The chat turn that records the signature only queues the document (rendering takes a few
hundred milliseconds); the notifier calls ``deliver_consent`` off the turn and sends the PDF
(or, where a channel cannot send files, its page images and a signed link).
"""
from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from backend import audit, clock, notify
from backend.artefacts import public_url, signed_path, store_artefact
from backend.models import Artefact, Consent, Intake
from backend.settings import get_settings
from backend.storage import read_decrypted
from documents.consent import context_from_dict
from documents.pdf import page_images, produce_sealed_consent
from flows.engine import Turn
from flows.types import Outbound


async def deliver_consent(turn: Turn, values: dict[str, Any]) -> list[Outbound]:
    """Render and seal the consent, store it with its hash, and return it as a document reply."""
    consent = await turn.session.get_one(Consent, int(values["consent_id"]))
    if consent.status == "superseded":  # changed after signing and signed again: never sealed
        return []
    artefact = (await turn.session.execute(select(Artefact).where(
        Artefact.owner_kind == "consent", Artefact.owner_id == consent.id,
        Artefact.kind == "consent_pdf"))).scalars().first()
    if artefact is not None:  # sealed before, and the delivery is being retried
        pdf = await read_decrypted(artefact.storage_path)
        pages = await asyncio.to_thread(page_images, pdf)
    else:
        pdf, pages = await _seal(turn, consent, values)
        artefact = await store_artefact(turn.session, owner_kind="consent", owner_id=consent.id,
                                        kind="consent_pdf", data=pdf, content_type="application/pdf")
        consent.pdf_path = artefact.storage_path
    filename = turn.t("consent.filename", id=consent.document_id[:8])
    url = public_url(get_settings().public_url, signed_path(artefact.id, filename))
    return [Outbound(kind="document", text=turn.t("consent.document", url=url), data=pdf,
                     filename=filename, content_type="application/pdf", url=url, pages=pages)]


async def _seal(turn: Turn, consent: Consent, values: dict[str, Any]) -> tuple[bytes, list[bytes]]:
    """Render and seal the consent off the event loop; record the seal and tell the hospital."""
    context = context_from_dict(values["context"])
    context.events = list(consent.events)
    sealed = await produce_sealed_consent(context)
    consent.pdf_sha256, consent.status = sealed.sha256, "sealed"
    consent.events = [*consent.events, {"event": "sealed", "at": clock.now().isoformat(),
                                        "development": sealed.development_seal}]
    intake = await turn.session.get_one(Intake, consent.intake_id)
    await audit.record(turn.session, "system", "consent.sealed", f"consent:{consent.id}",
                       {"document_id": consent.document_id, "sha256": sealed.sha256})
    await notify.notify_hospital(turn.session, "consent.sealed", {
        "document_id": consent.document_id, "sha256": sealed.sha256, "intake_id": intake.id,
        "signer": consent.signer_name})
    return sealed.pdf, sealed.pages
