"""The hospital's electronic seal: a PAdES signature made with pyHanko.

The hospital's certificate and key come from ``JIAHU_SIGNING_CERT`` and ``JIAHU_SIGNING_KEY``.
With ``JIAHU_TSA_URL`` set, the signature also carries an RFC 3161 timestamp from that
time-stamping authority (PAdES B-T); a TSA that does not answer fails the sealing job, which
is retried. Without them a self-signed development certificate is generated once under
``DATA_DIR/signing/development/`` and reused; documents sealed with it say so visibly.
"""
from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata

from backend import clock
from backend.config import hospital_config
from backend.settings import get_settings
from documents import patches

FIELD_NAME = "HospitalSeal"
_DEV_DIR = Path("signing") / "development"
_DEV_CERT, _DEV_KEY = "seal.crt.pem", "seal.key.pem"


@dataclass(frozen=True)
class SealMaterial:
    """Where the seal's certificate and key are, and whether they are the development pair."""

    cert_path: Path
    key_path: Path
    passphrase: bytes | None
    development: bool


@dataclass(frozen=True)
class Sealer:
    """A loaded signer (parsing keys costs time, so it is kept) and what the page shows of it."""

    signer: signers.SimpleSigner
    development: bool
    subject: str
    common_name: str
    serial: str
    not_after: datetime

    def seal(self, pdf: bytes) -> bytes:
        """Add a PAdES signature to ``pdf`` as an incremental update: baseline B-T with a
        timestamp when a TSA is configured, B-B without.

        pyHanko sizes the space for the signature by making a trial signature first (with a
        TSA, a trial timestamp too), which was ~40 % of a seal; the size it chose for the first
        seal with this certificate and TSA is kept and reused, with pyHanko's margin in it.
        """
        patches.apply()
        tsa_url = get_settings().tsa_url
        space_key = (self.subject, self.serial, tsa_url)
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        _align_producer(writer)
        meta = PdfSignatureMetadata(
            field_name=FIELD_NAME, md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason="居家护理服务协议及知情同意书 电子签章 / consent seal",
            location=hospital_config().hospital.name_zh)
        out = BytesIO()
        signer = signers.PdfSigner(meta, signer=self.signer, timestamper=time_stamper())
        reserved = _signature_space.get(space_key)
        try:
            signer.sign_pdf(writer, output=out, bytes_reserved=reserved)
        except SigningError:
            if reserved is None:
                raise
            # the kept space was too small after all (a TSA's answer grew): size it afresh
            _signature_space.pop(space_key, None)
            return self.seal(pdf)
        sealed = out.getvalue()
        if space_key not in _signature_space:
            _signature_space[space_key] = _reserved_space(sealed)
        return sealed


# bytes kept for the signature in /Contents, by (certificate subject, serial, TSA URL)
_signature_space: dict[tuple[str, str, str], int] = {}


def _reserved_space(pdf: bytes) -> int:
    """How many hex digits the seal's /Contents holds (the space pyHanko reserved for it)."""
    signature = next(s for s in PdfFileReader(BytesIO(pdf), strict=False).embedded_signatures
                     if s.field_name == FIELD_NAME)
    _, before, after, _ = signature.byte_range
    return int(after) - int(before) - 2  # less the < and > around the hex string


def time_stamper() -> timestamps.TimeStamper | None:
    """The configured RFC 3161 time-stamping authority (``JIAHU_TSA_URL``), if any."""
    url = get_settings().tsa_url
    return timestamps.HTTPTimeStamper(url, timeout=10) if url else None


def timestamp_of(pdf: bytes) -> datetime | None:
    """When the TSA says the seal existed (its RFC 3161 token's genTime), if it carries one."""
    signatures = [s for s in PdfFileReader(BytesIO(pdf), strict=False).embedded_signatures
                  if s.field_name == FIELD_NAME]
    if not signatures:
        return None
    for attribute in signatures[0].signer_info["unsigned_attrs"] or []:
        if attribute["type"].native == "signature_time_stamp_token":
            token = attribute["values"][0]["content"]["encap_content_info"]["content"].parsed
            moment: datetime = token["gen_time"].native
            return moment
    return None


def _align_producer(writer: IncrementalPdfFileWriter) -> None:
    """Give /Info the producer pyHanko writes into the XMP, as PDF/A wants both to agree."""
    info_ref = writer.trailer.raw_get("/Info")
    if not isinstance(info_ref, generic.IndirectObject):
        return
    info = info_ref.get_object()
    info["/Producer"] = generic.TextStringObject(VENDOR)
    writer.mark_update(info_ref)


def seal_material() -> SealMaterial:
    """The configured certificate and key, or the development pair (created on first use)."""
    settings = get_settings()
    if settings.signing_cert and settings.signing_key:
        return SealMaterial(settings.signing_cert, settings.signing_key,
                            settings.signing_key_passphrase.encode() or None, development=False)
    folder = settings.data_dir / _DEV_DIR
    if not (folder / _DEV_CERT).exists():
        _create_development_pair(folder)
    return SealMaterial(folder / _DEV_CERT, folder / _DEV_KEY, None, development=True)


def trusted_certificates() -> list[asn1_x509.Certificate]:
    """The certificates a sealed consent may be signed with: the configured one, the dev one."""
    settings = get_settings()
    paths = [settings.signing_cert] if settings.signing_cert else []
    paths.append(settings.data_dir / _DEV_DIR / _DEV_CERT)
    return [_load_asn1(p) for p in paths if p is not None and p.exists()]


def trusted_tsa_certificates() -> list[asn1_x509.Certificate]:
    """The time-stamping authority's root (``JIAHU_TSA_TRUST``), for checking timestamps."""
    path = get_settings().tsa_trust
    return [_load_asn1(path)] if path is not None and path.exists() else []


def _load_asn1(path: Path) -> asn1_x509.Certificate:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


_lock = threading.Lock()
_cache: dict[tuple[str, str, float, float], Sealer] = {}


def current_sealer() -> Sealer:
    """The signer for the current material, loaded once and reused while its files are unchanged."""
    material = seal_material()
    key = (str(material.cert_path), str(material.key_path),
           material.cert_path.stat().st_mtime, material.key_path.stat().st_mtime)
    with _lock:
        if key not in _cache:
            _cache.clear()
            _cache[key] = _load_sealer(material)
        return _cache[key]


def _load_sealer(material: SealMaterial) -> Sealer:
    signer = signers.SimpleSigner.load(str(material.key_path), str(material.cert_path),
                                       key_passphrase=material.passphrase)
    if signer is None:
        raise RuntimeError(f"cannot load the signing key {material.key_path} "
                           f"and certificate {material.cert_path}")
    cert = x509.load_pem_x509_certificate(material.cert_path.read_bytes())
    return Sealer(signer=signer, development=material.development,
                  subject=cert.subject.rfc4514_string(), common_name=_common_name(cert),
                  serial=format(cert.serial_number, "X"),
                  not_after=cert.not_valid_after_utc)


def _common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def _create_development_pair(folder: Path) -> None:
    """A self-signed P-256 certificate for the hospital, written atomically (several processes)."""
    hospital = hospital_config().hospital
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, hospital.name_zh),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "jiahu development seal"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{hospital.name_en} development seal (not valid)"),
    ])
    now = clock.now()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".development-", dir=folder.parent))
    (staging / _DEV_KEY).write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (staging / _DEV_KEY).chmod(0o600)
    (staging / _DEV_CERT).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    try:
        os.rename(staging, folder)
    except OSError:  # another process created the pair first: use theirs
        for child in staging.iterdir():
            child.unlink()
        staging.rmdir()
