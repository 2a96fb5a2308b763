"""Where words of a PDF sit on the page (poppler's ``pdftotext -bbox-layout``), to find text
that overlaps other text: a label running into its value, a header into the next column."""
from __future__ import annotations

import statistics
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

_NS = "{http://www.w3.org/1999/xhtml}"
TOLERANCE = 0.5
"""Points two boxes may share before they count as overlapping (glyph boxes touch at kerning)."""


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Word) -> bool:
        return (min(self.x1, other.x1) - max(self.x0, other.x0) > TOLERANCE
                and min(self.y1, other.y1) - max(self.y0, other.y0) > TOLERANCE)


def words(pdf: bytes) -> list[Word]:
    """Every word of every page with its box in points (origin top left)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "document.pdf"
        path.write_bytes(pdf)
        xhtml = subprocess.run(["pdftotext", "-bbox-layout", str(path), "-"], check=True,
                               capture_output=True, timeout=60).stdout
    found = []
    for number, page in enumerate(ET.fromstring(xhtml).iter(f"{_NS}page"), 1):
        for word in page.iter(f"{_NS}word"):
            found.append(Word(number, word.text or "", *(float(word.attrib[k])
                                                          for k in ("xMin", "yMin", "xMax", "yMax"))))
    return found


def overlapping_words(pdf: bytes) -> list[tuple[Word, Word]]:
    """Pairs of words on one page whose boxes intersect (a sweep over x, so pages stay fast).

    Text more than twice as tall as the page's usual line is left out: that is the diagonal
    "development seal" watermark, drawn across the page on purpose (poppler boxes each of its
    rotated letters upright).
    """
    pairs = []
    by_page: dict[int, list[Word]] = {}
    for word in words(pdf):
        by_page.setdefault(word.page, []).append(word)
    for page in by_page.values():
        usual = statistics.median(w.y1 - w.y0 for w in page)
        page = [w for w in page if w.y1 - w.y0 <= 2 * usual]
        page.sort(key=lambda w: w.x0)
        for i, word in enumerate(page):
            for other in page[i + 1:]:
                if other.x0 >= word.x1 - TOLERANCE:
                    break
                if word.overlaps(other):
                    pairs.append((word, other))
    return pairs
