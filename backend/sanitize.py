"""Files from families made safe before they are stored (DOMAIN.md: privacy and security).

Images are decoded and re-encoded by Pillow: metadata (EXIF with GPS, comments) is dropped and
anything appended to the file (a ZIP, HTML) is gone; images of more than ``MAX_PIXELS`` pixels
(decompression bombs) are refused before they are decoded. PDFs are read by qpdf and refused
when they carry JavaScript, embedded files, launch actions or rich media. Both are CPU work:
callers run them off the event loop (``clean_media``).
"""
from __future__ import annotations

import asyncio
import io
import re
import subprocess
import tempfile
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from backend.storage import sniff_content_type

MAX_PIXELS = 40_000_000
"""About a 7,000 × 5,700 photo: more than any phone camera takes."""
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
_ACTIVE_PDF = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA)(?![A-Za-z0-9_.-])")
_QPDF_TIMEOUT = 20


class Refused(ValueError):
    """A file that is not stored; ``reason`` names why (a message key of the channel)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean_image(data: bytes, content_type: str) -> bytes:
    """The picture alone, re-encoded in its own format without metadata."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise Refused("image_too_large")
                image.load()
                picture = ImageOps.exif_transpose(image)  # keep the orientation the EXIF gave
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused("image_too_large") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise Refused("image_unreadable") from None
    fmt = _FORMATS[content_type]
    if fmt == "JPEG" and picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")
    out = io.BytesIO()
    options = {"quality": 90} if fmt in ("JPEG", "WEBP") else {"optimize": True}
    picture.save(out, format=fmt, **options)
    return out.getvalue()


def check_pdf(data: bytes) -> None:
    """Refuse a PDF with active content (qpdf rewrites it with every name in plain form)."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(data)
        # coreutils' timeout bounds qpdf (exit 124): Python's own subprocess timeout polls with a
        # deadline, which breaks when the suite runs under libfaketime to prove it passes any day.
        result = subprocess.run(
            ["timeout", str(_QPDF_TIMEOUT), "qpdf", "--object-streams=disable", "--decode-level=none",
             "--stream-data=preserve", str(source), "-"], capture_output=True, check=False)
    if result.returncode not in (0, 3):  # 3: read with warnings (a damaged but repairable file)
        raise Refused("pdf_unreadable")
    if _ACTIVE_PDF.search(result.stdout):
        raise Refused("pdf_active")


def clean(data: bytes) -> bytes:
    """``data`` safe to store (images re-encoded, PDFs checked); other types are left to the
    intake's own rules, which refuse them."""
    content_type = sniff_content_type(data)
    if content_type in _FORMATS:
        return clean_image(data, content_type)
    if content_type and content_type.startswith("image/"):
        raise Refused("image_unreadable")  # e.g. HEIC: it cannot be re-encoded here
    if content_type == "application/pdf":
        check_pdf(data)
    return data


async def clean_media(data: bytes) -> bytes:
    """``clean`` in a thread: decoding a photo takes tens of milliseconds of CPU."""
    return await asyncio.to_thread(clean, data)
