"""The fonts of the consent PDF, and whether WeasyPrint can subset them quickly.

WeasyPrint 70 subsets embedded fonts with HarfBuzz-Subset when ``weasyprint.text.ffi`` could
``dlopen`` ``libharfbuzz-subset.so.0`` and HarfBuzz is at least 4.1.0 (``pdf/fonts.py``,
``Font.subset``). Otherwise it logs a warning and falls back to fontTools, which takes about
nine seconds per Noto CJK face: far too slow for a chat turn.
"""
from __future__ import annotations

import warnings
from typing import Any

_HINT = ("WeasyPrint would subset the Noto CJK fonts with fontTools (about 9 s per consent PDF) "
         "because HarfBuzz-Subset >= 4.1.0 is missing; install it with "
         "`apt-get install libharfbuzz-subset0` (Debian/Ubuntu) and restart")


def fast_subsetting_available() -> bool:
    """True when WeasyPrint will subset fonts with HarfBuzz, the same test WeasyPrint makes."""
    with warnings.catch_warnings():
        # weasyprint.text.ffi warns (DeprecationWarning) on import when the library is missing
        warnings.simplefilter("ignore", DeprecationWarning)
        from weasyprint.text.ffi import harfbuzz, harfbuzz_subset
    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


def require_fast_subsetting() -> None:
    """Refuse to start when consent PDFs would take seconds to render (called at service start)."""
    if not fast_subsetting_available():
        raise RuntimeError(_HINT)


# --- smaller CFF font programs ----------------------------------------------------------------
# WeasyPrint subsets with HarfBuzz's RETAIN_GIDS (CID-keyed faces are subset another way, below),
# because its content streams address glyphs by their original ids. For Noto CJK (≈ 65 000
# glyphs) every unused glyph below the highest used one stays as a one-byte ``endchar``
# charstring, and the CharStrings INDEX offsets, rising by one per glyph, deflate badly: about
# 140 KB per embedded face whatever the text. Giving those never-drawn glyphs an empty charstring
# keeps every glyph id and makes the offsets repeat, so each face shrinks to the size of the
# glyphs really used.

_ENDCHAR = 14


def compact_cff_font(font: bytes) -> bytes:
    """``font`` (an OpenType CFF font from a RETAIN_GIDS subset) with unused glyphs emptied.

    Every structure keeps its offset; returns ``font`` unchanged when it has no CFF table.
    """
    import struct

    import numpy as np

    if font[:4] != b"OTTO":
        return font
    num_tables = struct.unpack(">H", font[4:6])[0]
    records = [struct.unpack(">4sIII", font[12 + 16 * i: 28 + 16 * i]) for i in range(num_tables)]
    tables = {tag: font[offset: offset + length] for tag, _, offset, length in records}
    cff = tables.get(b"CFF ")
    if cff is None:
        return font
    charstrings = _top_dict_charstrings_offset(cff)
    if charstrings is None:
        return font
    count, off_size = struct.unpack(">HB", cff[charstrings: charstrings + 3])
    if count < 2 or not 1 <= off_size <= 4:
        return font
    start = charstrings + 3
    raw = np.frombuffer(cff, dtype=np.uint8, count=(count + 1) * off_size, offset=start)
    raw = raw.reshape(count + 1, off_size).astype(np.int64)
    offsets = np.zeros(count + 1, dtype=np.int64)
    for column in range(off_size):
        offsets = (offsets << 8) | raw[:, column]
    data_start = start + (count + 1) * off_size - 1
    end = data_start + int(offsets[-1])
    if end > len(cff):
        return font
    data = np.frombuffer(cff, dtype=np.uint8, count=end - data_start - 1, offset=data_start + 1)
    lengths = np.diff(offsets)
    first = data[np.minimum(offsets[:-1] - 1, len(data) - 1)]
    empty = (lengths == 1) & (first == _ENDCHAR)
    empty[0] = False  # .notdef keeps its outline
    new_data = data[np.repeat(~empty, lengths)].tobytes()
    new_offsets = np.concatenate(([1], 1 + np.cumsum(np.where(empty, 0, lengths))))
    new_size = max(1, (int(new_offsets[-1]).bit_length() + 7) // 8)
    packed = np.zeros((count + 1, new_size), dtype=np.uint8)
    for column in range(new_size):
        packed[:, new_size - 1 - column] = (new_offsets >> (8 * column)) & 0xFF
    index = struct.pack(">HB", count, new_size) + packed.tobytes() + new_data
    # Private DICTs may follow the charstrings at absolute offsets: keep them in place, with
    # zeros (which deflate to almost nothing) filling the space the charstrings gave up.
    padding = b"\0" * (end - charstrings - len(index))
    tables[b"CFF "] = cff[:charstrings] + index + padding + cff[end:]
    return _build_sfnt(font[:4], tables)


def _top_dict_charstrings_offset(cff: bytes) -> int | None:
    """The CharStrings offset (operator 17) from the CFF Top DICT."""
    top = _top_dict(cff)
    return None if top is None else _dict_operand(top, 17)


def _top_dict(cff: bytes) -> bytes | None:
    """The first Top DICT of a CFF table (after the header and the Name INDEX)."""
    if len(cff) < 4:
        return None
    position = cff[2]  # header size
    for index_number in range(2):  # Name INDEX, then Top DICT INDEX
        count = int.from_bytes(cff[position: position + 2], "big")
        if count == 0:
            return None
        off_size = cff[position + 2]
        offsets_at = position + 3

        def offset(i: int, at: int = offsets_at, size: int = off_size) -> int:
            return int.from_bytes(cff[at + i * size: at + (i + 1) * size], "big")

        data_at = offsets_at + (count + 1) * off_size - 1
        if index_number == 1:
            return cff[data_at + offset(0): data_at + offset(1)]
        position = data_at + offset(count)
    return None


def _dict_operand(data: bytes, operator: int) -> int | None:
    operands: list[int] = []
    i = 0
    while i < len(data):
        b0 = data[i]
        if b0 <= 21:
            op = b0 if b0 != 12 else 1200 + data[i + 1]
            i += 1 if b0 != 12 else 2
            if op == operator:
                return operands[-1] if operands else None
            operands = []
        elif b0 == 28:
            operands.append(int.from_bytes(data[i + 1: i + 3], "big", signed=True))
            i += 3
        elif b0 == 29:
            operands.append(int.from_bytes(data[i + 1: i + 5], "big", signed=True))
            i += 5
        elif b0 == 30:  # real number: skip nibbles up to the 0xf terminator
            i += 1
            while i < len(data) and (data[i] & 0x0F) != 0x0F and (data[i] >> 4) != 0x0F:
                i += 1
            i += 1
            operands.append(0)
        elif 32 <= b0 <= 246:
            operands.append(b0 - 139)
            i += 1
        elif 247 <= b0 <= 250:
            operands.append((b0 - 247) * 256 + data[i + 1] + 108)
            i += 2
        elif 251 <= b0 <= 254:
            operands.append(-(b0 - 251) * 256 - data[i + 1] - 108)
            i += 2
        else:
            return None
    return None


def _checksum(data: bytes) -> int:
    import numpy as np

    padded = data + b"\0" * (-len(data) % 4)
    return int(np.frombuffer(padded, dtype=">u4").sum(dtype=np.uint64)) & 0xFFFFFFFF


def _build_sfnt(version: bytes, tables: dict[bytes, bytes]) -> bytes:
    """An sfnt file from its tables, with offsets, checksums and head.checkSumAdjustment."""
    import struct

    tags = sorted(tables)
    num = len(tags)
    power = 1 << (num.bit_length() - 1)
    header = version + struct.pack(">HHHH", num, power * 16, power.bit_length() - 1,
                                   num * 16 - power * 16)
    offset = len(header) + 16 * num
    directory, body = b"", b""
    head = tables.get(b"head")
    if head is not None:
        tables[b"head"] = head[:8] + b"\0\0\0\0" + head[12:]
    for tag in tags:
        data = tables[tag]
        directory += struct.pack(">4sIII", tag, _checksum(data), offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    font = bytearray(header + directory + body)
    if head is not None:
        head_offset = len(header) + 16 * num + sum(
            len(tables[t]) + (-len(tables[t]) % 4) for t in tags[: tags.index(b"head")])
        adjustment = (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
        font[head_offset + 8: head_offset + 12] = struct.pack(">I", adjustment)
    return bytes(font)


# --- bare CFF for CID-keyed faces -------------------------------------------------------------
# Noto CJK faces are CID-keyed CFF fonts whose CIDs equal their glyph ids, and WeasyPrint's
# content streams address glyphs by those ids. Embedded as a bare CFF program (PDF FontFile3
# /CIDFontType0C) a subset keeps every glyph's CID in its charset, so it need not keep the
# original glyph ids: HarfBuzz subsets it in under half the time, and no compacting is needed.
# (Wrapped in OpenType, viewers take the glyph id instead of the CID and draw wrong glyphs.)

ROS = 1230  # the Top DICT operator (12 30) that makes a CFF font CID-keyed


def is_cid_keyed_cff(cff: bytes) -> bool:
    """True when ``cff`` (a CFF table, or its first kilobytes) is a CID-keyed font."""
    try:
        top = _top_dict(cff)
    except IndexError:
        return False
    return top is not None and _dict_operand(top, ROS) is not None


def is_bare_cff(font: bytes) -> bool:
    """True for a CFF font program (version 1 header of 4 bytes), not an sfnt."""
    return len(font) > 4 and font[0] == 1 and font[2] == 4 and 1 <= font[3] <= 4


def taken_blob(blob: Any, limit: int | None = None) -> tuple[bytes, int]:
    """A HarfBuzz blob's bytes (its first ``limit`` only, when given) and its whole length; the
    blob is released (the caller's reference to it is taken)."""
    from weasyprint.text.ffi import ffi, harfbuzz

    try:
        with ffi.new("unsigned int *") as length:
            data = harfbuzz.hb_blob_get_data(blob, length)
            size = int(length[0])
            kept = size if limit is None else min(size, limit)
            return (b"" if data == ffi.NULL else ffi.unpack(data, kept)), size
    finally:
        harfbuzz.hb_blob_destroy(blob)


def sfnt_table(font: bytes, tag: bytes) -> bytes | None:
    """The table ``tag`` of an sfnt (OpenType or TrueType) font file, if it has one."""
    import struct

    if len(font) < 12:
        return None
    num_tables = struct.unpack(">H", font[4:6])[0]
    for i in range(num_tables):
        name, _, offset, length = struct.unpack(">4sIII", font[12 + 16 * i: 28 + 16 * i])
        if name == tag:
            return font[offset: offset + length]
    return None
