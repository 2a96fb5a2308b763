"""The machine-readable evidence of a signed consent: what Chinese e-signature services record
(the agreement's title, version and SHA-256, when it was shown and whether its full text was
opened, the channel identity, how identity was checked, who signed and their relation to the
patient, the seal). Stored as canonical JSON beside the PDF; its SHA-256 goes into the audit
chain, so neither can be changed afterwards without it showing."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from documents.consent import ConsentContext, content_sha256

TITLES = {"zh": "居家护理服务协议及知情同意书", "en": "Home Nursing Service Agreement and Informed Consent"}
FORMAT = "jiahu.consent-evidence/1"


def evidence_record(context: ConsentContext, *, summary_sha256: str, pdf_sha256: str,
                    events: list[dict[str, Any]], development: bool, timestamp: str | None = None) -> dict[str, Any]:
    """The evidence of one signed and sealed consent, as a JSON-safe dict."""
    def first(kind: str) -> str | None:
        return next((str(e["at"]) for e in events if e.get("event") == kind), None)

    full_text = [str(e["at"]) for e in events if e.get("event") == "full_text_shown"]
    return {
        "format": FORMAT,
        "document_id": context.document_id,
        "agreement": {"title": TITLES.get(context.language, TITLES["zh"]), "version": context.template_version,
                      "language": context.language, "content_sha256": content_sha256(context),
                      "key_points_sha256": summary_sha256},
        "shown": {"key_points_at": first("sent") or first("created"), "full_text_opened": bool(full_text),
                  "full_text_opened_at": full_text},
        "channel": {"name": context.channel, "user_id": context.channel_user_id},
        "identity_checks": list(context.identity_checks),
        "signer": {"name": context.signer_name, "relation_to_patient": context.applicant_relation,
                   "signed_at": context.signed_at.isoformat() if context.signed_at else first("signed"),
                   "patient": context.patient_name, "patient_id": context.patient_id_masked},
        "seal": {"pdf_sha256": pdf_sha256, "pades": "B-T" if timestamp else "B-B", "timestamp": timestamp,
                 "development": development},
        "events": events,
    }


def canonical(record: dict[str, Any]) -> bytes:
    """Canonical JSON (sorted keys, UTF-8, no whitespace): the bytes stored and hashed."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def evidence_sha256(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()
