"""A time-stamping authority on 127.0.0.1 for the tests: RFC 3161 over HTTP, answered by
pyHanko's ``DummyTimeStamper`` with a TSA certificate issued by a root of its own."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper

from backend import clock


@dataclass(frozen=True)
class LocalTSA:
    url: str
    root_pem: Path  # what JIAHU_TSA_TRUST points at
    requests: list[bytes]  # every TimeStampReq received, DER


def _certificate(subject: str, key: rsa.RSAPrivateKey, issuer: x509.Name | None = None,
                 issuer_key: rsa.RSAPrivateKey | None = None, *, ca: bool) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = clock.now()
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(issuer_key or key, hashes.SHA256())


@contextmanager
def local_tsa(folder: Path) -> Iterator[LocalTSA]:
    """Serve RFC 3161 at http://127.0.0.1:<port>/tsa until the block ends."""
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = _certificate("jiahu test TSA root", root_key, ca=True)
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa = _certificate("jiahu test TSA", tsa_key, root.subject, root_key, ca=False)
    der = serialization.Encoding.DER
    tsa_cert = asn1_x509.Certificate.load(tsa.public_bytes(der))
    root_cert = asn1_x509.Certificate.load(root.public_bytes(der))
    tsa_private = asn1_keys.PrivateKeyInfo.load(tsa_key.private_bytes(
        der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    root_pem = folder / "tsa-root.pem"
    root_pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(body)
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415)
                return
            stamper = DummyTimeStamper(tsa_cert, tsa_private, certs_to_embed=[root_cert],
                                       fixed_dt=clock.now())
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalTSA(f"http://127.0.0.1:{server.server_address[1]}/tsa", root_pem, received)
    finally:
        server.shutdown()
        server.server_close()
