"""The signed consent as a sealed PDF, made in the background and delivered to the family.

The chat turn that records the signature only queues the document (rendering takes a few
hundred milliseconds); the notifier calls ``deliver_consent`` off the turn and sends the PDF
(or, where a channel cannot send files, its page images and a signed link).
"""
from __future__ import annotations

from typing import Any

from backend import audit, notify
from backend.artefacts import public_url, signed_path, store_artefact
from backend.models import Consent, Intake
from backend.settings import get_settings
from backend.types import utcnow
from documents.consent import context_from_dict
from documents.pdf import produce_sealed_consent
from flows.engine import Turn
from flows.types import Outbound


async def deliver_consent(turn: Turn, values: dict[str, Any]) -> list[Outbound]:
    """Render and seal the consent, store it with its hash, and return it as a document reply."""
    consent = await turn.session.get_one(Consent, int(values["consent_id"]))
    context = context_from_dict(values["context"])
    context.events = list(consent.events)
    sealed = await produce_sealed_consent(context)
    artefact = await store_artefact(turn.session, owner_kind="consent", owner_id=consent.id, kind="consent_pdf",
                                    data=sealed.pdf, content_type="application/pdf")
    consent.pdf_path, consent.pdf_sha256, consent.status = artefact.storage_path, sealed.sha256, "sealed"
    consent.events = [*consent.events, {"event": "sealed", "at": utcnow().isoformat(),
                                        "development": sealed.development_seal}]
    intake = await turn.session.get_one(Intake, consent.intake_id)
    await audit.record(turn.session, "system", "consent.sealed", f"consent:{consent.id}",
                       {"document_id": consent.document_id, "sha256": sealed.sha256})
    await notify.notify_hospital(turn.session, "consent.sealed", {
        "document_id": consent.document_id, "sha256": sealed.sha256, "intake_id": intake.id,
        "signer": consent.signer_name})
    filename = turn.t("consent.filename", id=consent.document_id[:8])
    url = public_url(get_settings().public_url, signed_path(artefact.id, filename))
    return [Outbound(kind="document", text=turn.t("consent.document", url=url), data=sealed.pdf,
                     filename=filename, content_type="application/pdf", url=url, pages=sealed.pages)]
