"""Checking a sealed consent PDF: the seal, that nothing changed since, and the hospital's record."""
from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel, TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from backend import clock
from backend.settings import get_settings
from documents.pdf import ID_KEYWORD_PREFIX
from documents.seal import FIELD_NAME, trusted_certificates, trusted_tsa_certificates

_ID = re.compile(re.escape(ID_KEYWORD_PREFIX) + r"([0-9A-Za-z_-]{1,40})")


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one file, with a one-line reason either way."""

    ok: bool
    message: str
    document_id: str | None = None

    def line(self) -> str:
        return f"{'VALID' if self.ok else 'INVALID'}: {self.message}"


def verify_consent_pdf(data: bytes, *, check_database: bool = True) -> Verdict:
    """Is this the sealed consent the hospital issued, unchanged? (blocking: runs pyHanko)"""
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = [s for s in reader.embedded_signatures if s.field_name == FIELD_NAME]
        document_id = _document_id(reader)
    except Exception as error:  # noqa: BLE001 - any parse failure means a damaged file
        return Verdict(False, f"not a readable consent PDF ({type(error).__name__}: {error})")
    if not signatures:
        return Verdict(False, "the file carries no hospital seal", document_id)
    label = f"consent {document_id}" if document_id else "consent (no document id)"
    trusted = trusted_certificates()
    if not trusted:
        return Verdict(False, f"{label}: no signing certificate is configured to trust",
                       document_id)
    try:
        context = ValidationContext(trust_roots=trusted, allow_fetching=False, moment=clock.now())
        tsa_context = ValidationContext(trust_roots=trusted_tsa_certificates() or trusted,
                                        allow_fetching=False, moment=clock.now())
        status = validate_pdf_signature(signatures[0], context, ts_validation_context=tsa_context)
    except Exception as error:  # noqa: BLE001 - a broken signature structure is a failed check
        return Verdict(False, f"{label}: the seal cannot be checked ({error})", document_id)
    if not (status.intact and status.valid):
        return Verdict(False, f"{label}: the seal does not match the document's content",
                       document_id)
    if not status.trusted:
        return Verdict(False, f"{label}: sealed with a certificate this hospital does not trust",
                       document_id)
    stamp = status.timestamp_validity
    if stamp is not None and not (stamp.intact and stamp.valid):
        return Verdict(False, f"{label}: the seal's timestamp does not match the seal", document_id)
    untrusted_stamp_only = stamp is not None and not stamp.trusted
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE or not (status.bottom_line or untrusted_stamp_only):
        return Verdict(False, f"{label}: the document was changed after sealing", document_id)
    signer = status.signing_cert.subject.native.get("common_name", "the hospital")
    message = f"{label}: seal by {signer} is intact and trusted, unchanged since sealing; {_timestamp(stamp)}"
    if not check_database or document_id is None:
        return Verdict(True, message, document_id)
    try:
        recorded = asyncio.run(_recorded_sha256(document_id))
    except Exception as error:  # noqa: BLE001 - the seal still holds; say what was not checked
        return Verdict(True, f"{message}; database not checked ({type(error).__name__})",
                       document_id)
    if recorded is None:
        return Verdict(True, f"{message}; not recorded in this database", document_id)
    if recorded == "":
        return Verdict(False, f"{label}: the database records no sealed PDF for it", document_id)
    if recorded != hashlib.sha256(data).hexdigest():
        return Verdict(False, f"{label}: the file is not the copy recorded in the database "
                              f"(SHA-256 differs)", document_id)
    return Verdict(True, f"{message}; SHA-256 matches the database record", document_id)


def _timestamp(stamp: TimestampSignatureStatus | None) -> str:
    """What the verdict says of the seal's RFC 3161 timestamp (PAdES B-T), if it has one."""
    if stamp is None:
        return "no timestamp (PAdES B-B)"
    authority = stamp.signing_cert.subject.native.get("common_name", "a time-stamping authority")
    trust = "trusted" if stamp.trusted else "not trusted here (set JIAHU_TSA_TRUST to its root certificate)"
    return f"timestamp {stamp.timestamp.isoformat()} by {authority}, {trust}"


def _document_id(reader: PdfFileReader) -> str | None:
    info = reader.trailer_view.get("/Info")
    keywords = str(info.get_object().get("/Keywords", "")) if info is not None else ""
    found = _ID.search(keywords)
    return found.group(1) if found else None


async def _recorded_sha256(document_id: str) -> str | None:
    """``Consent.pdf_sha256`` for the document ("" if none yet), None when unknown."""
    from sqlalchemy import select

    from backend.db import make_engine
    from backend.models import Consent

    url = get_settings().resolved_database_url
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if not path or path == ":memory:" or not Path(path).exists():
            return None
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                select(Consent.pdf_sha256).where(Consent.document_id == document_id))
            row = result.first()
    finally:
        await engine.dispose()
    if row is None:
        return None
    return row[0] or ""
