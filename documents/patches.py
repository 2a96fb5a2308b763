"""Changes to the PDF libraries, applied once per process and only to the versions they were
written for (``pyproject.toml`` pins those); any other version renders unchanged, slower.

- pydyf compresses every stream twice, once to write it and once more to hash the file for its
  /ID (``PDF.write``), and WeasyPrint offers no hook around that: ``Stream.data`` keeps its bytes
  on the stream after the first time (a stream is complete before the PDF is written), and
  deflates at level 3 instead of 9: the fonts are ~1.8 MB to deflate, mostly the same bytes
  repeated, so level 3 takes 6 ms where 6 took 10 and 9 ~25, for a consent 6 % larger than at
  level 6 (~206 KB instead of 195 KB).
- WeasyPrint's HarfBuzz subsetting (``Font._harfbuzz_subset``) runs twice per face: once keeping
  the used glyphs at their ids, then again over every id up to the highest used one, which the
  first pass had already limited the font to. One pass gives the same font (the second pass's
  "no hinting" moved into it) in a quarter of the time. A CID-keyed CFF face (Noto CJK: CID =
  glyph id, which WeasyPrint's content streams use) is subset without keeping glyph ids and
  embedded as a bare CFF program (``FontFile3 /CIDFontType0C``) whose charset keeps the CIDs:
  4 and 7 ms instead of 11 and 14 for the consent's two faces, no compacting; and
  it is taken from the process's stock of the face's common glyphs (``documents.font_stock``):
  1.3 and 3.2 ms. The program is stored, not deflated: deflate saved a fifth of its ~130 KB
  and took ~3 ms (interleaved A/B: 154.6 ms a consent stored, 161.2 deflated; 207 KB, 179 KB).
  Other faces keep their glyph ids, and the compact font of ``documents.fonts.compact_cff_font``
  replaces the result of a CFF one (~140 KB less per face).
- WeasyPrint copies the whole font file of every face it embeds into a new ``bytes`` for each
  document (``Font.__init__``), 46 MB for the consent's two Noto CJK faces (~15 ms of CPU and
  more of wall time a consent), though subsetting then replaces it. The copy of a face is made
  once and shared (bytes do not change), for the few faces a process embeds: the rendering
  process keeps those 46 MB, which it allocated and freed for every consent before.
- asn1crypto (under pyHanko's seal) re-encodes a value built in Python on every read of its
  contents, because it never clears the value's "mutated" mark once encoded; ``dump`` reads the
  contents up to three times and each read re-encodes every child again, so the CMS signature's
  small tree was encoded ~2,000 times a seal (a DigestAlgorithm 682 times). ``contents`` now
  clears the mark after encoding, as a change made afterwards (``obj[key] = …``, ``append``)
  sets it again: a seal takes 5 ms instead of 13.5, and signs the same bytes.
- WeasyPrint matches every element against its whole HTML5 user-agent stylesheet and offers no
  option to pass another; ``html_with_user_agent_stylesheet`` gives a document a smaller one
  through ``HTML._ua_stylesheets``, the method WeasyPrint 70 asks for it.
"""
from __future__ import annotations

import threading
import zlib
from functools import lru_cache
from importlib.metadata import version
from typing import Any

import structlog

from documents import font_stock, weasyprint_speed
from documents.fonts import compact_cff_font, is_bare_cff, is_cid_keyed_cff, sfnt_table, taken_blob

log = structlog.get_logger(__name__)

PYDYF_VERSIONS = ("0.13.",)
ASN1CRYPTO_VERSIONS = ("1.5.",)
_DEFLATE_LEVEL = 3
WEASYPRINT_VERSIONS = ("70.",)
_lock = threading.Lock()
_applied = False


def apply() -> None:
    """Apply the changes if this process has not yet (called before the first render or seal)."""
    global _applied
    with _lock:
        if _applied:
            return
        _applied = True
        if version("pydyf").startswith(PYDYF_VERSIONS):
            _compress_streams_once()
        else:
            log.warning("pdf.patch_skipped", library="pydyf", version=version("pydyf"))
        if version("weasyprint").startswith(WEASYPRINT_VERSIONS):
            _compact_subset_fonts()
        else:
            log.warning("pdf.patch_skipped", library="weasyprint", version=version("weasyprint"))
        if version("asn1crypto").startswith(ASN1CRYPTO_VERSIONS):
            _encode_asn1_once()
        else:
            log.warning("pdf.patch_skipped", library="asn1crypto", version=version("asn1crypto"))
        weasyprint_speed.apply()


@lru_cache(maxsize=4)
def html_with_user_agent_stylesheet(stylesheet: Any) -> Any:
    """WeasyPrint's ``HTML`` class with ``stylesheet`` (a ``CSS``) as its user-agent stylesheet
    instead of the HTML5 one, for documents whose markup we write; ``HTML`` itself on another
    WeasyPrint version. A document given as a string that is well-formed XHTML (the consent
    templates are) is parsed by expat in under a millisecond instead of by WeasyPrint's HTML5
    parser (~10 ms, pure Python); any other string still goes to the HTML5 parser."""
    from weasyprint import HTML

    if not version("weasyprint").startswith(WEASYPRINT_VERSIONS):
        log.warning("pdf.patch_skipped", library="weasyprint", version=version("weasyprint"),
                    change="user_agent_stylesheet")
        return HTML

    class HTMLWithUserAgentStylesheet(HTML):  # type: ignore[misc]
        def __init__(self, *, string: str, base_url: str | None = None) -> None:
            root = _xhtml_root(string)
            if root is None:
                super().__init__(string=string, base_url=base_url)
                return
            import cssselect2
            from weasyprint import URLFetcher, _find_base_url

            # what WeasyPrint 70's HTML.__init__ keeps of a parsed document
            self.base_url = _find_base_url(root, base_url)
            self.url_fetcher = URLFetcher()
            self.media_type = "print"
            self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
            self.etree_element = self.wrapper_element.etree_element

        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [stylesheet]

    return HTMLWithUserAgentStylesheet


def _xhtml_root(string: str) -> Any:
    """The root element of ``string`` parsed as XML, as WeasyPrint's HTML5 parser would give it
    (HTML elements without a namespace, SVG ones in the SVG namespace), or None when the string
    is not well-formed XML or not an ``html`` document."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(string)
    except ElementTree.ParseError:
        return None
    return root if root.tag == "html" else None


class _FastDeflate:
    """Stands in for the ``zlib`` module inside pydyf."""

    @staticmethod
    def compressobj(level: int = 6, **options: Any) -> Any:
        return zlib.compressobj(level=min(level, _DEFLATE_LEVEL), **options)

    @staticmethod
    def compress(data: bytes, level: int = 6) -> bytes:
        return zlib.compress(data, min(level, _DEFLATE_LEVEL))


def _compress_streams_once() -> None:
    import pydyf

    computed = pydyf.Stream.data.fget  # type: ignore[attr-defined]

    def data(stream: Any) -> bytes:
        cached: bytes | None = stream.__dict__.get("_jiahu_data")
        if cached is None:
            cached = stream.__dict__["_jiahu_data"] = computed(stream)
        return cached

    pydyf.Stream.data = property(data)  # type: ignore[method-assign,assignment]
    pydyf.zlib = _FastDeflate  # type: ignore[attr-defined]


def _encode_asn1_once() -> None:
    from asn1crypto import core

    for cls in (core.Sequence, core.SequenceOf):
        setter = cls.contents.fset  # type: ignore[attr-defined]

        def contents(value: Any) -> bytes:
            """asn1crypto 1.5's ``contents`` of a constructed value, encoded once per change."""
            if value.children is None:
                return value._contents  # type: ignore[no-any-return]
            if value._is_mutated():
                value._set_contents()
                value._mutated = False
            return value._contents  # type: ignore[no-any-return]

        cls.contents = property(contents, setter)  # type: ignore[method-assign,assignment]


def _compact_subset_fonts() -> None:
    import weasyprint.pdf
    from weasyprint.pdf import fonts

    fonts.get_hb_object_data = _face_data_once  # only Font.__init__ calls it there now
    fonts.Font._harfbuzz_subset = _harfbuzz_subset_once
    original = fonts.Font.subset

    def subset(self: Any, to_unicode: Any, hinting: Any) -> None:
        original(self, to_unicode, hinting)
        self.file_content = compact_cff_font(self.file_content)

    fonts.Font.subset = subset
    # a bare CFF program is embedded like an OpenType CFF one (FontFile3, CIDFontType0)...
    fonts.Font.type = property(_font_type)  # type: ignore[method-assign,assignment]
    build_fonts_dictionary = weasyprint.pdf.build_fonts_dictionary

    def build_fonts_dictionary_cff(pdf: Any, *args: Any) -> Any:
        first = len(pdf.objects)
        result = build_fonts_dictionary(pdf, *args)
        # ...but its stream says what it is (WeasyPrint writes /OpenType for every FontFile3)
        for stream in pdf.objects[first:]:
            if (getattr(stream, "extra", {}).get("Subtype") == "/OpenType"
                    and is_bare_cff(stream.stream[0])):
                stream.extra["Subtype"] = "/CIDFontType0C"
                # stored as it is: deflating a face's ~130 KB of CFF saved a fifth of it and
                # took ~3 ms of a ~150 ms consent
                stream.compress = False
        return result

    weasyprint.pdf.build_fonts_dictionary = build_fonts_dictionary_cff


def _font_type(font: Any) -> str:
    """WeasyPrint 70's ``Font.type``, which also takes a bare CFF program for "otf"."""
    content = font.file_content
    return "otf" if content[:4] == b"OTTO" or is_bare_cff(content) else "ttf"


_FACES_KEPT = 8
FaceKey = tuple[int, int, bytes]  # face index, file length, SHA-256 of the file's first 64 KB
# a face's whole font file, by what the file is: Pango may create a new face object for the
# same file, and an address may later name another face
_face_data: dict[FaceKey, bytes] = {}


def _face_key(hb_face: Any) -> FaceKey:
    """What identifies a face's font file (its table directory, with every table's checksum,
    is in the first bytes) without copying the file."""
    import hashlib

    from weasyprint.text.ffi import harfbuzz

    head, size = taken_blob(harfbuzz.hb_face_reference_blob(hb_face), 65536)
    return harfbuzz.hb_face_get_index(hb_face), size, hashlib.sha256(head).digest()


def _face_data_once(hb_object: Any, ot_color: str | None = None, glyph: int | None = None) -> Any:
    """WeasyPrint 70's ``get_hb_object_data``, the whole font file of a face copied once."""
    from weasyprint.text.fonts import get_hb_object_data

    if ot_color is not None:
        return get_hb_object_data(hb_object, ot_color, glyph)
    key = _face_key(hb_object)
    with _lock:
        data = _face_data.get(key)
    if data is None:
        data = get_hb_object_data(hb_object)
        with _lock:
            if len(_face_data) >= _FACES_KEPT:
                del _face_data[next(iter(_face_data))]
            _face_data[key] = data
    return data


_DROPPED_TABLES = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF", b"LTSH",
                   b"PCLT", b"SVG ")  # as WeasyPrint 70 drops them


def _harfbuzz_subset_once(self: Any, to_unicode: Any, hinting: bool) -> None:
    """WeasyPrint 70's ``Font._harfbuzz_subset`` in one HarfBuzz pass instead of two; a
    CID-keyed CFF face (Noto CJK) becomes a bare CFF program that keeps CIDs, not glyph ids."""
    from weasyprint.pdf.fonts import LOGGER
    from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset
    from weasyprint.text.fonts import get_hb_object_data

    cid_keyed = "CFF " in self.tables and _face_is_cid_keyed(self.hb_face)
    source, wanted = self.hb_face, sorted(to_unicode)
    if cid_keyed:  # from the process's stock of common glyphs (documents/font_stock.py)
        existing = [glyph for glyph in wanted if glyph < self.glyph_count]
        stock = font_stock.stock_for(_face_key(self.hb_face), self.hb_face, existing)
        if stock is not None:
            source, wanted = stock.face, sorted(stock.new_ids[glyph] for glyph in existing)
    hb_subset = ffi.gc(harfbuzz_subset.hb_subset_input_create_or_fail(),
                       harfbuzz_subset.hb_subset_input_destroy)
    glyphs = harfbuzz_subset.hb_subset_input_glyph_set(hb_subset)
    used = ffi.new(f"hb_codepoint_t[{len(wanted)}]", wanted)
    harfbuzz.hb_set_add_sorted_array(glyphs, used, len(wanted))
    flags = (harfbuzz_subset.HB_SUBSET_FLAGS_PASSTHROUGH_UNRECOGNIZED
             | harfbuzz_subset.HB_SUBSET_FLAGS_DESUBROUTINIZE)
    if not cid_keyed:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_RETAIN_GIDS
    if not hinting:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_NO_HINTING
    if self.missing:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_NOTDEF_OUTLINE
    harfbuzz_subset.hb_subset_input_set_flags(hb_subset, flags)
    dropped = harfbuzz_subset.hb_subset_input_set(hb_subset, harfbuzz_subset.HB_SUBSET_SETS_DROP_TABLE_TAG)
    tags = sorted(harfbuzz.hb_tag_from_string(name, -1) for name in _DROPPED_TABLES)
    harfbuzz.hb_set_add_sorted_array(dropped, ffi.new(f"hb_codepoint_t[{len(tags)}]", tags), len(tags))
    face = ffi.gc(harfbuzz_subset.hb_subset_or_fail(source, hb_subset), harfbuzz.hb_face_destroy)
    if face:
        content = get_hb_object_data(face)
        if content and cid_keyed:
            content = sfnt_table(content, b"CFF ")
        if content:
            self.file_content = content
            return
    LOGGER.warning('Unable to subset "%s" with HarfBuzz', self.family)


def _face_is_cid_keyed(hb_face: Any) -> bool:
    """Whether a face's CFF table is CID-keyed (read from its first kilobytes, not copied)."""
    from weasyprint.text.ffi import harfbuzz

    head, _ = taken_blob(harfbuzz.hb_face_reference_table(hb_face, harfbuzz.hb_tag_from_string(b"CFF ", -1)),
                         4096)
    return is_cid_keyed_cff(head)
