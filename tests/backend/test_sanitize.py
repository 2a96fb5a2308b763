"""Files from families made safe: photos re-encoded without metadata or appended data, bombs
and PDFs with active content refused."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from backend import sanitize
from tests.conftest import png_bytes


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 40), (200, 180, 160))
    exif = Image.Exif()
    exif[0x010E] = "王秀英 11010519491231002X"  # ImageDescription
    exif[0x8825] = {2: (39.0, 59.0, 34.0)}  # GPSInfo: latitude
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_photos_lose_metadata_and_anything_appended():
    photo = _jpeg_with_gps()
    assert b"Exif" in photo
    clean = sanitize.clean(photo)
    assert b"Exif" not in clean and "王秀英".encode() not in clean
    assert Image.open(io.BytesIO(clean)).size == (64, 40)
    for tail in (b"PK\x03\x04" + b"\x00" * 40 + b"evil.html", b"<html><script>alert(1)</script></html>"):
        polyglot = png_bytes() + tail
        cleaned = sanitize.clean(polyglot)
        assert tail not in cleaned and cleaned.startswith(b"\x89PNG")


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    buffer = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(buffer, format="PNG")  # 30000×30000, a few hundred KB
    with pytest.raises(sanitize.Refused) as refused:
        sanitize.clean(buffer.getvalue())
    assert refused.value.reason == "image_too_large"


def _pdf(extra_catalog: str = "", objects: str = "") -> bytes:
    return (f"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R {extra_catalog} >> endobj\n"
            "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
            "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\n"
            f"{objects}trailer << /Root 1 0 R >>\n%%EOF\n").encode()


@pytest.mark.parametrize("catalog, objects", [
    ("/OpenAction 4 0 R", "4 0 obj << /S /J#61vaScript /JS (app.alert\\(1\\)) >> endobj\n"),
    ("/OpenAction 4 0 R", "4 0 obj << /S /Launch /F (cmd.exe) >> endobj\n"),
    ("/Names << /EmbeddedFiles 4 0 R >>", "4 0 obj << /Names [(a.exe) 5 0 R] >> endobj\n"
                                          "5 0 obj << /Type /Filespec /F (a.exe) >> endobj\n"),
], ids=["javascript", "launch", "embedded-file"])
def test_pdfs_with_active_content_are_refused(catalog, objects):
    with pytest.raises(sanitize.Refused) as refused:
        sanitize.clean(_pdf(catalog, objects))
    assert refused.value.reason == "pdf_active"


def test_a_plain_pdf_is_kept_as_it_is_and_junk_refused():
    pdf = _pdf()
    assert sanitize.clean(pdf) == pdf
    junk = b"%PDF-1.4\n" + b"\x00" * 100
    with pytest.raises(sanitize.Refused):
        sanitize.clean(junk)
