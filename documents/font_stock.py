"""Noto CJK faces cut down once per process to the glyphs consents use, for quick subsetting.

HarfBuzz subsets a document's few hundred glyphs out of a whole Noto CJK face (≈ 65,000 glyphs)
in 4–7 ms a face, most of it spent on the size of the face, not on the glyphs taken. Taken out
of a stock face of the ~14,000 glyphs that Chinese documents mostly use, the same subset takes
1.3–3.2 ms (both faces of a consent: ~6 ms less).

The stock face holds every character of GB 2312 (the 6,763 hanzi of everyday Chinese and its
symbols), ASCII and Latin-1, general and CJK punctuation and full-width forms, with whatever
glyphs OpenType substitutions can make of them, and every glyph a document has needed since:
a document with a glyph outside it (a rare character in a name, 𠮷, 龘) makes the stock again
with that glyph added, once, and is subset from the new stock. Glyphs keep their CIDs (the
original glyph ids of Noto CJK) in the stock's charset, so the final subset, embedded as a bare
CFF program, still finds every glyph by the CID WeasyPrint wrote.

Only for CID-keyed CFF faces; callers subset other faces from the whole face.
"""
from __future__ import annotations

import io
import threading
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from documents.fonts import taken_blob

_STOCK_LIMIT = 40_000  # glyphs: beyond this a face's stock stops growing
_lock = threading.Lock()


@dataclass(frozen=True)
class Stock:
    """A cut-down face (HarfBuzz ``hb_face_t``) and where each original glyph went in it."""

    face: Any
    new_ids: dict[int, int]  # original glyph id (= CID) → glyph id in ``face``


_stocks: dict[Any, Stock] = {}


def stock_for(face_key: Any, hb_face: Any, glyph_ids: Collection[int]) -> Stock | None:
    """The stock of the face ``hb_face`` (identified by ``face_key``) holding ``glyph_ids``:
    the kept one, or one made now with them added; None if it cannot hold them."""
    with _lock:
        stock = _stocks.get(face_key)
        if stock is not None and all(glyph in stock.new_ids for glyph in glyph_ids):
            return stock
        wanted = set(glyph_ids) | (set(stock.new_ids) if stock is not None else set())
        if len(wanted) > _STOCK_LIMIT:
            return None
        made = _cut(hb_face, wanted)
        if made is None or not all(glyph in made.new_ids for glyph in glyph_ids):
            return None
        _stocks[face_key] = made
        return made


def _cut(hb_face: Any, glyph_ids: Collection[int]) -> Stock | None:
    """A subset of ``hb_face`` with the common characters and ``glyph_ids``, OpenType
    substitutions followed (GSUB kept for the closure), outlines desubroutinized."""
    from weasyprint.text.ffi import ffi, harfbuzz
    from weasyprint.text.ffi import harfbuzz_subset as subset

    request = ffi.gc(subset.hb_subset_input_create_or_fail(), subset.hb_subset_input_destroy)
    codepoints = _common_codepoints()
    unicodes = subset.hb_subset_input_set(request, subset.HB_SUBSET_SETS_UNICODE)
    harfbuzz.hb_set_add_sorted_array(unicodes, ffi.new(f"hb_codepoint_t[{len(codepoints)}]", codepoints),
                                     len(codepoints))
    glyphs = sorted(glyph_ids)
    harfbuzz.hb_set_add_sorted_array(subset.hb_subset_input_glyph_set(request),
                                     ffi.new(f"hb_codepoint_t[{len(glyphs)}]", glyphs), len(glyphs))
    subset.hb_subset_input_set_flags(request, subset.HB_SUBSET_FLAGS_PASSTHROUGH_UNRECOGNIZED
                                     | subset.HB_SUBSET_FLAGS_DESUBROUTINIZE)
    face = subset.hb_subset_or_fail(hb_face, request)
    if face == ffi.NULL:
        return None
    face = ffi.gc(face, harfbuzz.hb_face_destroy)
    cff, _ = taken_blob(harfbuzz.hb_face_reference_table(face, harfbuzz.hb_tag_from_string(b"CFF ", -1)))
    new_ids = _cids(cff)
    return None if new_ids is None else Stock(face, new_ids)


def _cids(cff: bytes) -> dict[int, int] | None:
    """CID → glyph id from a CID-keyed CFF table's charset (None if it is not CID-keyed)."""
    from fontTools.cffLib import CFFFontSet

    fonts = CFFFontSet()
    try:
        fonts.decompile(io.BytesIO(cff), None)
        names = fonts[fonts.fontNames[0]].charset
    except Exception:  # noqa: BLE001 - a table fontTools cannot read: subset from the whole face
        return None
    cids = {}
    for glyph, name in enumerate(names):
        if name == ".notdef":
            cids[0] = glyph
        elif name.startswith("cid") and name[3:].isdigit():
            cids[int(name[3:])] = glyph
        else:
            return None
    return cids


@lru_cache(maxsize=1)
def _common_codepoints() -> list[int]:
    """GB 2312's characters, ASCII, Latin-1, punctuation, CJK symbols and full-width forms."""
    codepoints = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | set(range(0x2000, 0x2070))
    codepoints |= set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                codepoints.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return sorted(codepoints)
