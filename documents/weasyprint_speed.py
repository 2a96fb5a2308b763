"""Less Python work in WeasyPrint 70's layout and drawing, for the same PDF.

Changes applied once per process (``apply``, from ``documents.patches.apply``) and only to the
WeasyPrint version they were written for; on any other version nothing changes (a warning is
logged) and documents render as before, slower. Each keeps the output identical:
``tests/documents/test_weasyprint_speed.py`` renders both sample consents with and without them
(``plain_weasyprint()``), in separate processes, and compares every page's image, every page's
content stream (operator by operator) and the text.

Measured on the Chinese consent, CPU milliseconds, medians of renders interleaved in one process
(the machine is shared and noisy: single figures move by ±2 ms). ``bench/weasyprint_speed.py
--runs 30 --variants plain,all``: WeasyPrint's own layout 105 + drawing 48 = 153 ms, with every
change 72 + 32 = 104 ms (the whole render and seal 221 → 168; the English consent's layout and
drawing 194 → 140). Each change's gain, in brackets, is what removing it from the full set
costs (``bench/weasyprint_speed.py --change NAME --runs 30`` or more: the same parsed consent
rendered each way alternately; ``render`` is styles, boxes and layout, ``draw`` painting the
pages):

- ``computed_values`` (render 13 ms, draw 0.5 ms): ``ComputedStyle.__missing__`` computes
  every property of every element on first use (~12,700 a consent) through the steps for
  variables, math, keywords and logical properties. A property no rule sets takes its parent's
  value or the initial one, and one set to a plain value is computed, without those steps;
  WeasyPrint's own method does the rest (variables, math, ``inherit``/``initial``, float,
  display, position, page, text decorations, a physical property whose logical one is set).
  What a property is (inherited, physical and its logical names, its computer function and
  initial value) is looked up once per property, not on every call (4 of the 13 ms).
- ``keep_line_layouts`` (draw 10 ms; render ±1 ms): a text box's Pango layout was thrown away
  once its line was measured (``first_line_metrics`` → ``deactivate``) and made again when the
  line was drawn (``reactivate``: a new context, the same text set again and laid out again).
  Drawing a line with no justification spacing to add sets up the layout measuring left: the
  line's text alone and no width for a line that was split; for a text that fits on one line,
  its own width, which does not move the glyphs of a left-aligned line shorter than it. So that
  layout is kept and drawn. Layouts are made in Pango's single-paragraph mode, which drawing
  sets, for a text without paragraph separators (where the mode changes nothing; a text that
  gets one leaves the mode), so drawing does not lay the line out again.
- ``margin_box_sizes`` (render ~1 ms; 7 ms before consent.css gave @top-left a width): the
  page's top margin boxes were sized with their min-content width on every page (a line break
  tried after each character of the text), only to be clamped to their max-content width:
  ``min(max(min-content, outer - sugar), max-content)`` is the max-content width whatever the
  min-content one when ``outer - sugar`` reaches it.
- ``strut_key`` (render 4 ms): ``strut`` (a line's height and baseline, ~570 calls) made its
  cache key by writing 16 style values out as one string (``_font_style_cache_key``); the
  values themselves, in a tuple, make the key.
- ``pango_setup`` (render 3 ms): every ``Layout`` (one per text measured, per line drawn,
  per strut) made a new Pango context, set its language and base direction, built a font
  description and the OpenType features string from a dozen style values. The context (per
  language and direction), the font description and the features string are made once and
  shared; each layout still gets its own attribute list, as ``set_text`` changes it in place.
  Pango layouts take a reference to the context and copy the description.
- ``percentages`` (render 10 ms): ``resolve_percentages`` runs for every box each time it is
  laid out (~1,100 times a consent), with 15 calls of ``resolve_one_percentage`` and
  ``percentage``, and sets ~20 attributes one by one, growing the box's ``__dict__`` several
  times. The same steps written inline (WeasyPrint's ``percentage`` for ``calc()``), the values
  put into the box in one ``__dict__`` update (attribute by attribute for an
  ``AbsolutePlaceholder``, which passes them on to the box it holds).
- ``plain_backgrounds`` (render 3 ms): ``layout_box_backgrounds`` worked out every box's
  background, border image, mask and shadow on every page to find, for nearly all, nothing to
  paint; whether a style has any, and square corners, is found once per style, and square
  corners are set in one ``__dict__`` update.
- ``glyph_runs`` (draw 2 ms): ``draw_first_line`` read each glyph's id, width and offsets
  through four C struct accesses and looked up Pango's constants and the font's tables for
  every glyph; a run's glyphs are copied out in one call. Lines with ellipsis and lines in
  colour (emoji) fonts are drawn by WeasyPrint's own function.
- ``percentage_memo`` (render 2 ms): most of those ~1,100 calls resolve the same lengths
  against the same containing block (127 different cases a consent, the same ones in every
  consent); the used values are kept per style values and containing block size (not for
  ``calc()``, whose result may depend on the style) and put into the box as they are.
- ``normal_flow`` (render 2 ms): ``Box.is_in_normal_flow`` (~4,300 calls a consent) made five
  method calls (floated, absolutely positioned, running, footnote, note), each reading the style;
  the same tests on the two style values they read.
- ``no_floats`` (render 2 ms): ``avoid_collisions`` (~800 calls a consent, for every line box)
  looked for floats beside the box; with none placed (``excluded_shapes`` empty, as in every
  consent) the answer is the containing block's bounds, worked out with the same arithmetic.
  Right-to-left blocks and any placed float go to WeasyPrint's own.
- ``rgb_colors`` (draw 1.3 ms): ``Stream.set_color`` (~600 calls a consent) converted the
  colour to sRGB and wrote its numbers out each time; an sRGB/HSL/HWB colour's operator is
  kept from its first use (WeasyPrint's own) and appended again, with the same alpha and
  current-colour bookkeeping.
- ``plain_contexts`` (draw 1 ms): ``Stream.stacked`` and ``Stream.artifact`` (~1,400 uses a
  consent, most around table border segments and text) were generator context managers; the
  same steps in plain context manager objects.
- ``no_outlines`` (draw 0.7 ms): ``draw_outline`` worked out every box's outline colour and
  offset on every page to find a zero width (``outline-style: none``); boxes without an
  outline are only gone through, and WeasyPrint's own draws a box with one.
- ``line_memo`` (render 22 ms; the whole consent 141–153 → 119–120 ms, ``bench/consent_pdf.py``
  with another family each run): ``split_first_line`` (~310 texts a consent) laid out with
  Pango, again for every consent, the same lines: the articles, headings, table headers and
  risks are in every consent, and after three other families' consents a family's own
  measures ~40 new lines (its name, address, visit, services). A line is kept by its text,
  the style values that laying it out reads (``_LINE_KEYS``), the width, the justification
  spacing and the font map, with what WeasyPrint returned: the metrics and the Layout, whose
  Pango layout every text box with that line then draws (``keep_line_layouts`` drawing it
  as it is). Drawing changes a layout only to put an ellipsis in it; a text box does that to
  a layout of its own (``_own_layout``, in ``glyph_runs``' drawing; without it, each text box
  draws a layout of its own, as WeasyPrint does). 2,048 lines are kept (~20 KB each); when
  full, those not used again since the last time are let go.
- ``collapsed_borders`` (render 1.3 ms): ``collapse_table_borders`` (collapsed borders, nine
  tables a consent) read a box's border style, width and colour from its style for every grid
  cell it borders (a row's top and bottom once per column, the table's once per row and
  column: ~1,000 reads a consent, each importing ``get_color`` and building three attribute
  names); each box's border on each side, with its score, is read once per table. The rest is
  WeasyPrint's function as it is (the same grid, the same used widths on the boxes).

The changes from ``percentage_memo`` to ``no_outlines`` together, against the set before them
(whole consents alternately, 40 each, CPU medians): 178.5 → 171.2 ms a consent on a busy
machine (168.8 → 159.1 for the first four alone, on a quieter one); ``computed_values``' looking
up once per property another 4–6 ms (the old and new method alternately, 40 to 80 each).

Not done (measured, no gain beyond the noise, or not worth a copy of WeasyPrint's code):

- ``page_values`` with each style's page name kept: a computed ``page`` is kept by the style
  after all, and the walk costs ~1 ms under cProfile.
- ``AnonymousStyle.__missing__`` with what each property is looked up once, as for
  ``computed_values``: its method is already that short (±0.5 ms).
- ``gather_anchors`` going down boxes with nothing to gather (1.2 ms in all): 0.3 ms.
- Laying out a smaller share of the text to find a Chinese line's break (``split_first_line``
  lays out ``4 × width / font size`` characters, four lines' worth of Chinese): the texts
  measured average 17 characters, so at most ~2 ms was to be had, for a copy of a 270-line
  function. Pango's work for the lines is now the largest part of layout (~20 ms a consent,
  ~280 texts, half of them under 10 characters: table cells, headings, list numbers); 32 of
  them are the same text, style and width laid out again in one consent (~3.5 ms): what
  ``line_memo`` now keeps, with the lines every consent has.
"""
from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from math import inf
from typing import Any

import structlog

log = structlog.get_logger(__name__)

WEASYPRINT_VERSIONS = ("70.",)
_lock = threading.Lock()


class _Change:
    """One change: which attributes of which WeasyPrint objects it replaces, and with what."""

    def __init__(self, name: str, replacements: Callable[[], list[tuple[Any, str, Any]]]) -> None:
        self.name = name
        self._replacements = replacements
        self._originals: list[tuple[Any, str, Any]] = []
        self.installed = False

    def install(self) -> None:
        if self.installed:
            return
        replacements = self._replacements()
        self._originals = [(target, attr, getattr(target, attr))
                           for target, attr, _ in replacements]
        for target, attr, new in replacements:
            setattr(target, attr, new)
        self.installed = True

    def uninstall(self) -> None:
        if not self.installed:
            return
        for target, attr, original in reversed(self._originals):
            setattr(target, attr, original)
        self.installed = False


def apply() -> None:
    """Install every change not yet installed, on the WeasyPrint version they were written for
    (``documents.patches.apply`` calls this once per process, before the first render)."""
    if not version("weasyprint").startswith(WEASYPRINT_VERSIONS):
        log.warning("pdf.patch_skipped", library="weasyprint", version=version("weasyprint"),
                    change="weasyprint_speed")
        return
    with _lock:
        for change in CHANGES.values():
            change.install()


@contextmanager
def only(names: set[str] | frozenset[str]) -> Iterator[None]:
    """Within the block, exactly the changes named are installed (for measuring and tests);
    afterwards those that were installed before."""
    before = {name for name, change in CHANGES.items() if change.installed}
    try:
        for name, change in CHANGES.items():
            if name not in names:
                change.uninstall()
        for name in names:
            CHANGES[name].install()
        yield
    finally:
        for name, change in CHANGES.items():
            if name not in before:
                change.uninstall()
        for name in before:
            CHANGES[name].install()


def plain_weasyprint() -> Any:
    """A context in which WeasyPrint renders without these changes."""
    return only(frozenset())


# --- pango_setup ----------------------------------------------------------------------------

_KEPT = 256  # entries of each cache below; a consent uses a few dozen
# (language, direction) -> (font map, Pango context, PangoLanguage)
_contexts: dict[tuple[str | None, str], tuple[Any, Any, Any]] = {}
_descriptions: dict[tuple[Any, ...], Any] = {}  # font style values -> PangoFontDescription
_features: dict[tuple[Any, ...], bytes] = {}  # font variant values -> features string


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> Any:
    if len(cache) >= _KEPT:
        cache.clear()
    cache[key] = value
    return value


def _pango_setup() -> list[tuple[Any, str, Any]]:
    from weasyprint.text import line_break
    from weasyprint.text.constants import LST_TO_ISO, PANGO_DIRECTION
    from weasyprint.text.ffi import FROM_UNITS, ffi, gobject, pango
    from weasyprint.text.fonts import font_features, get_font_description

    original_setup = line_break.Layout.setup

    def context_of(font_map: Any, lang: str | None, direction: str) -> tuple[Any, Any, Any]:
        entry = _contexts.get((lang, direction))
        if entry is None or entry[0] is not font_map:
            context = ffi.gc(pango.pango_font_map_create_context(font_map), gobject.g_object_unref)
            pango.pango_context_set_round_glyph_positions(context, False)
            pango.pango_context_set_base_dir(context, PANGO_DIRECTION[direction])
            if lang is None:
                language = pango.pango_language_get_default()
            else:
                language = pango.pango_language_from_string(ffi.new("char[]", lang.encode()))
                pango.pango_context_set_language(context, language)
            entry = _remember(_contexts, (lang, direction), (font_map, context, language))
        return entry

    def setup(self: Any, style: Any) -> None:
        """``Layout.setup`` with the context, font description and features made once."""
        override = style["font_language_override"]
        lang = (LST_TO_ISO.get(override.lower(), override) if override != "normal"
                else style["lang"] or None)
        if lang is not None and (not lang or "\x00" in lang):
            return original_setup(self, style)  # as WeasyPrint treats such a language
        try:
            description_key = (tuple(style["font_family"]), style["font_style"],
                               style["font_stretch"], style["font_weight"], style["font_size"],
                               style["font_variant_caps"], style["font_variation_settings"])
            features_key = (style["font_kerning"], style["font_variant_ligatures"],
                            style["font_variant_position"], style["font_variant_caps"],
                            style["font_variant_numeric"], style["font_variant_alternates"],
                            style["font_variant_east_asian"], style["font_feature_settings"])
            hash((description_key, features_key))
        except TypeError:  # a value that is not hashable: WeasyPrint's own way
            return original_setup(self, style)
        self.style = style
        self.first_line_direction = 0
        font_config = style.font_config
        _, context, self.language = context_of(font_config.font_map, lang, style["direction"])

        assert not isinstance(style["font_family"], str), "font_family should be a list"
        description = _descriptions.get(description_key)
        if description is None:
            description = _remember(_descriptions, description_key, get_font_description(style))
        self.layout = ffi.gc(pango.pango_layout_new(context), gobject.g_object_unref)
        pango.pango_layout_set_auto_dir(self.layout, False)
        pango.pango_layout_set_font_description(self.layout, description)

        if style["text_decoration_line"] != "none":
            metrics = ffi.gc(pango.pango_context_get_metrics(context, description, self.language),
                             pango.pango_font_metrics_unref)
            self.ascent = FROM_UNITS * pango.pango_font_metrics_get_ascent(metrics)
            self.underline_position = FROM_UNITS * (
                pango.pango_font_metrics_get_underline_position(metrics))
            self.strikethrough_position = FROM_UNITS * (
                pango.pango_font_metrics_get_strikethrough_position(metrics))
            self.underline_thickness = FROM_UNITS * (
                pango.pango_font_metrics_get_underline_thickness(metrics))
            self.strikethrough_thickness = FROM_UNITS * (
                pango.pango_font_metrics_get_strikethrough_thickness(metrics))
        else:
            self.ascent = None
            self.underline_position = None
            self.strikethrough_position = None

        features = _features.get(features_key)
        if features is None:
            values = font_features(*features_key)
            features = _remember(_features, features_key, ",".join(
                f"{key} {value}" for key, value in values.items()).encode())
        if features:
            attr = font_config.font_features.get(features)
            if attr is None:
                attr = font_config.font_features[features] = (
                    pango.pango_attr_font_features_new(features))
            attr_list = pango.pango_attr_list_new()
            pango.pango_attr_list_insert(attr_list, attr)
            pango.pango_layout_set_attributes(self.layout, attr_list)

    return [(line_break.Layout, "setup", setup)]


# --- keep_line_layouts ----------------------------------------------------------------------

# where Pango may start a new paragraph (pango_find_paragraph_boundary), and other breaks
_PARAGRAPH_SEPARATOR = re.compile("[\n\r\u2029\u2028\x85\x0b\x0c]")
_DRAWABLE = "_jiahu_drawable"  # on a Layout kept as drawing would make it


def _one_paragraph(text: str) -> bool:
    return _PARAGRAPH_SEPARATOR.search(text) is None


def _keep_line_layouts() -> list[tuple[Any, str, Any]]:
    from weasyprint.text import line_break
    from weasyprint.text.ffi import FROM_UNITS, TO_UNITS, ffi, pango

    line_size = line_break.line_size
    Layout = line_break.Layout
    original_reactivate = Layout.reactivate
    original_set_text = Layout.set_text

    def create_layout(text: str, style: Any, context: Any, max_width: Any,
                      justification_spacing: Any) -> Any:
        """WeasyPrint 70's ``create_layout``, in single-paragraph mode (as drawing sets it)
        when the text has no paragraph separator, where the mode changes nothing."""
        layout = Layout(style, justification_spacing, max_width)
        text_wrap = style["white_space"] in ("normal", "pre-wrap", "pre-line")
        if max_width is not None and text_wrap and max_width < 2 ** 21:
            pango.pango_layout_set_width(layout.layout, int(max(0, max_width) * TO_UNITS))
        if _one_paragraph(text):
            pango.pango_layout_set_single_paragraph_mode(layout.layout, True)
            setattr(layout, _DRAWABLE, False)  # single-paragraph; True once measured
        layout.set_text(text)
        return layout

    def set_text(self: Any, text: str, justify: bool = False) -> None:
        """``Layout.set_text``, leaving single-paragraph mode for a text that is not one."""
        if _DRAWABLE in self.__dict__ and not _one_paragraph(text):
            pango.pango_layout_set_single_paragraph_mode(self.layout, False)
            del self.__dict__[_DRAWABLE]
        original_set_text(self, text, justify)

    def first_line_metrics(first_line: Any, text: str, layout: Any, resume_at: Any,
                           space_collapse: bool, style: Any, hyphenated: bool = False,
                           hyphenation_character: str | None = None) -> tuple[Any, ...]:
        """WeasyPrint 70's ``first_line_metrics``, keeping a line's layout for drawing."""
        length = first_line.length
        single = _DRAWABLE in layout.__dict__
        drawable = False
        if hyphenated:
            assert hyphenation_character is not None
            length -= len(hyphenation_character.encode())
        elif resume_at:
            pango.pango_layout_set_width(layout.layout, -1)
            first_line_text = text.encode()[:length].decode()
            if space_collapse:
                first_line_text = first_line_text.rstrip(" ")
            drawable = _one_paragraph(first_line_text)
            if drawable and not single:
                pango.pango_layout_set_single_paragraph_mode(layout.layout, True)
            layout.set_text(first_line_text)
            first_line, _ = layout.get_first_line()
            length = first_line.length if first_line is not None else 0
        else:
            # the whole text on one line: laid out as drawing would, but for the layout's
            # width, which does not move the glyphs of a line shorter than it
            drawable = single and pango.pango_layout_get_line_readonly(layout.layout, 1) == ffi.NULL

        width, height = line_size(first_line, style)
        baseline = pango.pango_layout_get_baseline(layout.layout) * FROM_UNITS
        if drawable:
            setattr(layout, _DRAWABLE, True)
        else:
            layout.deactivate()
        return layout, length, resume_at, width, height, baseline

    def reactivate(self: Any, style: Any) -> None:
        """Draw with the kept layout when ``set_text(justify=True)`` would set it up the same."""
        if (self.__dict__.pop(_DRAWABLE, False) and self.__dict__.get("style") is style
                and not self.justification_spacing):
            return
        self.__dict__.pop(_DRAWABLE, None)
        original_reactivate(self, style)

    def deactivate(self: Any) -> None:
        self.__dict__.pop(_DRAWABLE, None)
        del self.layout, self.language, self.style

    return [(line_break, "create_layout", create_layout),
            (line_break, "first_line_metrics", first_line_metrics),
            (Layout, "set_text", set_text),
            (Layout, "reactivate", reactivate),
            (Layout, "deactivate", deactivate)]


# --- line_memo ------------------------------------------------------------------------------

# what ``split_first_line`` and the layout it makes read of a style (text.line_break, text.fonts)
_LINE_KEYS = ("white_space", "font_size", "hyphens", "lang", "hyphenate_limit_chars",
              "hyphenate_limit_zone", "hyphenate_character", "overflow_wrap", "word_break",
              "letter_spacing", "word_spacing", "tab_size", "direction",
              "font_language_override", "font_family", "font_style", "font_stretch",
              "font_weight", "font_variant_caps", "font_variation_settings",
              "text_decoration_line", "font_kerning", "font_variant_ligatures",
              "font_variant_position", "font_variant_numeric", "font_variant_alternates",
              "font_variant_east_asian", "font_feature_settings")
_LINES_KEPT = 2048  # lines kept (~20 KB each); a consent measures ~310 texts, ~40 its own
# (text, style values, width, spacing, line start, minimum, font map) -> [the Layout's
#     attributes but its style, (length, resume index, width, height, baseline), used again]
_lines: dict[tuple[Any, ...], list[Any]] = {}
_SHARED = "_jiahu_shared"  # on a Layout whose Pango layout other text boxes draw too
_UNSHARES = "_jiahu_unshares"  # on a draw_first_line that gives a shared layout's text box its
                               # own before changing it


def _line_memo() -> list[tuple[Any, str, Any]]:
    from weasyprint.draw import text as draw_text
    from weasyprint.layout import inline, preferred
    from weasyprint.text import line_break

    original = line_break.split_first_line
    Layout = line_break.Layout

    def split_first_line(text: str, style: Any, context: Any, max_width: Any,
                         justification_spacing: Any, is_line_start: bool = True,
                         minimum: bool = False) -> tuple[Any, ...]:
        """``split_first_line`` for a text, style, width and font map measured before: the
        same line, with the layout made then."""
        try:
            key = (text, tuple([style[name] for name in _LINE_KEYS]), max_width,
                   justification_spacing, is_line_start, minimum, style.font_config.font_map)
            kept = _lines.get(key)
        except TypeError:  # a value that is not hashable
            return original(text, style, context, max_width, justification_spacing,
                            is_line_start, minimum)
        if kept is None:
            result = original(text, style, context, max_width, justification_spacing,
                              is_line_start, minimum)
            layout = result[0]
            attributes = {name: value for name, value in layout.__dict__.items()
                          if name != "style"}
            attributes[_SHARED] = layout.__dict__[_SHARED] = True
            if len(_lines) >= _LINES_KEPT:
                _forget_lines()
            _lines[key] = [attributes, result[1:], False]
            return result
        attributes, metrics, _ = kept
        kept[2] = True
        layout = Layout.__new__(Layout)
        layout.__dict__.update(attributes)
        if "layout" not in attributes:
            pass  # measured, then let go: drawing makes it again, as for the first text box
        elif getattr(draw_text.draw_first_line, _UNSHARES, False):
            layout.style = style
        else:  # drawing may change a layout (ellipsis): each text box draws its own
            for name in ("layout", "language", _DRAWABLE, _SHARED):
                layout.__dict__.pop(name, None)
        return (layout, *metrics)

    return [(module, "split_first_line", split_first_line) for module in (inline, preferred)]


def _forget_lines() -> None:
    """Let go of the lines not used again since the last time (one family's name, address,
    visit), keeping those every consent has; all of them if that leaves no room."""
    used = {key: kept for key, kept in _lines.items() if kept[2]}
    _lines.clear()
    if len(used) < _LINES_KEPT // 2:
        for kept in used.values():
            kept[2] = False
        _lines.update(used)


def _own_layout(layout: Any, style: Any) -> None:
    """Before drawing changes a layout that other text boxes draw too: a layout of its own, made
    as WeasyPrint's ``reactivate`` makes it."""
    if layout.__dict__.pop(_SHARED, False) and "layout" in layout.__dict__:
        layout.__dict__.pop(_DRAWABLE, None)
        layout.setup(style)
        layout.set_text(layout.text, justify=True)


# --- percentages ----------------------------------------------------------------------------

_MARGINS_AND_PADDINGS = (("margin_left", False), ("margin_right", False), ("margin_top", True),
                         ("margin_bottom", True), ("padding_left", False),
                         ("padding_right", False), ("padding_top", True),
                         ("padding_bottom", True))
_BORDERS = ("border_top_width", "border_right_width", "border_bottom_width", "border_left_width")
# the style values the used ones come from: first the 14 lengths, then what else is read
_PERCENTAGE_KEYS = (*(name for name, _ in _MARGINS_AND_PADDINGS), "width", "min_width",
                    "max_width", "height", "min_height", "max_height")
_used: dict[tuple[Any, ...], dict[str, Any]] = {}  # the used values of a key, for percentage_memo
_memo_percentages = False  # percentage_memo installed


def _percentages() -> list[tuple[Any, str, Any]]:
    from weasyprint.css.functions import check_math
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import absolute, block, column, grid, inline, page, percent, table
    from weasyprint.layout import float as floats

    percentage = percent.percentage
    adjust_box_sizing = percent.adjust_box_sizing
    Box, PageBox = boxes.Box, boxes.PageBox

    def used(value: Any, style: Any, refer_to: Any) -> Any:
        """``percentage``: the used length of a computed one."""
        if value is None or value == "auto":
            return value
        unit = getattr(value, "unit", None)
        if unit == "px":
            return value.value
        if unit == "%":
            return refer_to * value.value / 100
        if unit is None:
            return percentage(value, style, refer_to)
        return value.value

    def used_values(style: Any, cb_width: Any, cb_height: Any, maybe_height: Any) -> Any:
        """The used margins, paddings, sizes and limits of a box of ``style``."""
        values = {name: used(style[name], style, maybe_height if vertical else cb_width)
                  for name, vertical in _MARGINS_AND_PADDINGS}
        values["width"] = used(style["width"], style, cb_width)
        min_width = used(style["min_width"], style, cb_width)
        values["min_width"] = 0 if min_width == "auto" else min_width
        values["max_width"] = used(style["max_width"], style, cb_width)

        if cb_height == "auto":
            height = style["height"]
            if height == "auto" or check_math(height) or height.unit == "%":
                values["height"] = "auto"
            else:
                assert height.unit.lower() == "px"
                values["height"] = height.value
            min_height = used(style["min_height"], style, 0)
            values["min_height"] = 0 if min_height == "auto" else min_height
            values["max_height"] = used(style["max_height"], style, inf)
        else:
            values["height"] = used(style["height"], style, cb_height)
            min_height = used(style["min_height"], style, cb_height)
            values["min_height"] = 0 if min_height == "auto" else min_height
            values["max_height"] = used(style["max_height"], style, cb_height)

        return values

    def resolve_percentages(box: Any, containing_block: Any) -> None:
        """WeasyPrint 70's ``resolve_percentages`` with its calls written inline."""
        if isinstance(containing_block, Box):
            cb_width = containing_block.width
            cb_height = containing_block.height
        else:
            cb_width, cb_height = containing_block
        maybe_height = cb_height if isinstance(box, PageBox) else cb_width
        style = box.style
        # the used values go into the box's attributes in one update (one resize of its
        # __dict__, where ~20 attributes set one by one grew it several times)
        if _memo_percentages:
            try:
                key = (cb_width, cb_height, maybe_height,
                       *[style[name] for name in _PERCENTAGE_KEYS])
                values = _used.get(key)
            except TypeError:  # a value that is not hashable
                key, values = None, None
            if values is None:
                values = used_values(style, cb_width, cb_height, maybe_height)
                if key is not None and all(
                        value == "auto" or getattr(value, "unit", None) is not None
                        for value in key[3:17]):  # no calc(), which may depend on the style
                    if len(_used) >= 4 * _KEPT:
                        _used.clear()
                    _used[key] = values
        else:
            values = used_values(style, cb_width, cb_height, maybe_height)

        if style["border_collapse"] == "collapse":
            borders = {name: style[name] for name in _BORDERS if not hasattr(box, name)}
        else:
            borders = {name: style[name] for name in _BORDERS}
        if isinstance(box, Box):
            box.__dict__.update(values)
            box.__dict__.update(borders)
        else:  # an AbsolutePlaceholder, which passes attributes on to its box
            for name, value in (*values.items(), *borders.items()):
                setattr(box, name, value)

        if style["box_sizing"] != "content-box":  # content-box changes nothing
            adjust_box_sizing(box, "width")
            adjust_box_sizing(box, "height")

    return [(module, "resolve_percentages", resolve_percentages)
            for module in (percent, absolute, block, column, floats, grid, inline, page, table)]


# --- computed_values ------------------------------------------------------------------------

def _computed_values() -> list[tuple[Any, str, Any]]:
    from weasyprint.css import (
        COMPUTER_FUNCTIONS,
        INHERITED,
        INITIAL_NOT_COMPUTED,
        INITIAL_VALUES,
        PHYSICAL_FUNCTIONS,
        ComputedStyle,
        Pending,
        check_math,
    )

    original_missing = ComputedStyle.__missing__
    # properties whose value WeasyPrint derives from others, or keeps a specified value of
    special = frozenset({"float", "display", "position", "page"})
    # property -> None (WeasyPrint's own) or (logical property by direction or None,
    # inherited, computer function or None, initial value, initial value to compute)
    plans: dict[str, Any] = {}

    def plan_of(key: str) -> Any:
        if (key in special or key[:2] == "__" or key[:16] == "text_decoration_"
                or key not in INITIAL_VALUES):
            plan = None
        else:
            logical_function = PHYSICAL_FUNCTIONS.get(key)
            logical = None if logical_function is None else {
                direction: logical_function(block="ttb", inline=direction)
                for direction in ("ltr", "rtl")}
            computer = COMPUTER_FUNCTIONS.get(key)
            plan = (logical, key in INHERITED, computer, INITIAL_VALUES[key],
                    key in INITIAL_NOT_COMPUTED and computer is not None)
        plans[key] = plan
        return plan

    def __missing__(self: Any, key: str) -> Any:
        """``ComputedStyle.__missing__`` in short for the common cases: a property no rule
        sets (the parent's value or the initial one) and one set to a plain value (computed);
        WeasyPrint's own for the rest (variables, math, keywords, derived properties, a
        physical property whose logical one, such as margin-inline-start, is set). What
        each property is (inherited, physical, computed) is looked up once per property."""
        plan = plans[key] if key in plans else plan_of(key)
        if plan is None:
            return original_missing(self, key)
        logical, inherited, computer, initial, compute_initial = plan
        cascaded = self.cascaded
        if logical is not None:
            logical_key = logical.get(self["direction"])
            if logical_key is None or logical_key in cascaded:
                return original_missing(self, key)
        entry = cascaded.get(key)
        if entry is not None:
            value = entry[0]
            if (isinstance(value, Pending) or value == "inherit" or value == "initial"
                    or check_math(value)):
                return original_missing(self, key)
            if computer is not None:
                value = computer(self, key, value)
            self[key] = value
            return value
        if inherited:
            parent_style = self.parent_style
            if parent_style is None:
                return original_missing(self, key)
            value = self[key] = parent_style[key]
            return value
        value = computer(self, key, initial) if compute_initial else initial
        self[key] = value
        return value

    return [(ComputedStyle, "__missing__", __missing__)]


# --- margin_box_sizes -----------------------------------------------------------------------

def _margin_box_sizes() -> list[tuple[Any, str, Any]]:
    from weasyprint.layout.page import OrientedBox

    original = OrientedBox.outer

    def set_outer(self: Any, new_outer: float) -> None:
        """``inner = min(max(min-content, new_outer - sugar), max-content)``, which is the
        max-content size whatever the min-content size when ``new_outer - sugar`` reaches it:
        the min-content size (a line break at every character of CJK text) is then not needed."""
        inner = new_outer - self.sugar
        max_content_size = self.max_content_size
        if inner >= max_content_size:
            self.inner = max_content_size
        else:
            original.fset(self, new_outer)

    return [(OrientedBox, "outer", property(original.fget, set_outer))]


# --- strut_key ------------------------------------------------------------------------------

_STRUT_KEYS = ("font_family", "font_style", "font_stretch", "font_weight",
               "font_variant_ligatures", "font_variant_position", "font_variant_caps",
               "font_variant_numeric", "font_variant_alternates", "font_variant_east_asian",
               "font_feature_settings", "font_variation_settings", "font_language_override",
               "lang", "font_size", "line_height")  # what WeasyPrint's strut cache key holds


def _strut_key() -> list[tuple[Any, str, Any]]:
    from weasyprint.css import computed_values, units
    from weasyprint.layout import inline
    from weasyprint.text import line_break

    original_strut = line_break.strut

    def strut(style: Any) -> Any:
        """``strut`` with its cache keyed by the style values themselves, not by the text of
        them (``_font_style_cache_key`` made a string of 16 values for every call)."""
        if style["font_size"] == 0:
            return 0, 0
        cache = style.font_config.__dict__.setdefault("_jiahu_struts", {})
        try:
            key = tuple([style[name] for name in _STRUT_KEYS])
            result = cache.get(key)
        except TypeError:  # a value that is not hashable
            return original_strut(style)
        if result is None:
            result = cache[key] = original_strut(style)
        return result

    return [(module, "strut", strut) for module in (line_break, inline, units, computed_values)]


# --- plain_backgrounds ----------------------------------------------------------------------

_plain_styles: dict[int, tuple[Any, bool, bool]] = {}  # id(style) -> (style, plain, square)
_RADII = ("border_top_left_radius", "border_top_right_radius", "border_bottom_right_radius",
          "border_bottom_left_radius")
_SQUARE = dict.fromkeys(_RADII, (0, 0))  # the used radii of square corners


def _plain_backgrounds() -> list[tuple[Any, str, Any]]:
    from weasyprint.draw.color import get_color
    from weasyprint.formatting_structure.boxes import Box
    from weasyprint.layout import background
    from weasyprint.layout.percent import resolve_radii_percentages

    original = background.layout_box_backgrounds

    def looks(style: Any) -> tuple[bool, bool]:
        """Whether a box of ``style`` has no background, border image, mask or shadow (WeasyPrint
        then sets its ``background`` to None) and whether every corner is square (its radii
        resolve to (0, 0) whatever the box)."""
        entry = _plain_styles.get(id(style))
        if entry is None or entry[0] is not style:
            plain = (style["border_image_source"][0] == "none"
                     and style["mask_border_source"][0] == "none"
                     and not style["box_shadow"]
                     and (style["visibility"] == "hidden"
                          or (get_color(style, "background_color").alpha == 0
                              and not any(type_ == "url" or value
                                          for type_, value in style["background_image"]))))
            square = all((0, "px") in style[name] for name in _RADII)
            if len(_plain_styles) >= 4 * _KEPT:
                _plain_styles.clear()
            entry = _plain_styles[id(style)] = (style, plain, square)
        return entry[1], entry[2]

    def layout_box_backgrounds(page: Any, box: Any, get_image_from_uri: Any,
                               layout_children: bool = True, style: Any = None) -> None:
        """``layout_box_backgrounds``, in short for a box with nothing to paint behind it."""
        if style is not None or box is page:
            return original(page, box, get_image_from_uri, layout_children, style)
        plain, square = looks(box.style)
        if not plain:
            return original(page, box, get_image_from_uri, layout_children, style)
        if square and isinstance(box, Box):
            box.__dict__.update(_SQUARE)
        elif square:  # an AbsolutePlaceholder, which passes attributes on to its box
            for name in _RADII:
                setattr(box, name, (0, 0))
        else:
            resolve_radii_percentages(box)
        if layout_children:
            for child in box.all_children():
                layout_box_backgrounds(page, child, get_image_from_uri)
        box.background = None
        return None

    return [(background, "layout_box_backgrounds", layout_box_backgrounds)]


# --- glyph_runs -----------------------------------------------------------------------------

def _glyph_runs() -> list[tuple[Any, str, Any]]:
    from weasyprint.draw import text
    from weasyprint.logger import LOGGER
    from weasyprint.text.ffi import FROM_UNITS, ffi, pango

    original = text.draw_first_line
    struct_layout = (ffi.sizeof("PangoGlyphInfo"), ffi.offsetof("PangoGlyphInfo", "geometry"),
              ffi.offsetof("PangoGlyphGeometry", "x_offset"),
              ffi.offsetof("PangoGlyphGeometry", "y_offset"), ffi.sizeof("PangoGlyphUnit"))
    if struct_layout != (20, 4, 4, 8, 4):  # not as read below: WeasyPrint's own
        log.warning("pdf.patch_skipped", library="weasyprint", change="glyph_runs",
                    layout=struct_layout)
        return []
    empty_glyph, unknown_flag = pango.PANGO_GLYPH_EMPTY, pango.PANGO_GLYPH_UNKNOWN_FLAG
    sized_fonts = pango.pango_version() >= 14802  # else WeasyPrint uses the style's font size

    def draw_first_line(stream: Any, textbox: Any, text_overflow: str, block_ellipsis: Any,
                        matrix: Any) -> list[Any]:
        """WeasyPrint 70's ``draw_first_line`` for a line without ellipsis in fonts without
        colour glyphs (SVG, PNG, COLR: emojis), where it has no emoji to place: the same PDF
        operators, with a run's glyphs read from Pango in one copy instead of four C struct
        accesses a glyph, and Pango's constants and the font's tables looked up once a run.
        A line that meets a colour font is taken back and drawn by WeasyPrint's own."""
        if text_overflow == "ellipsis" or block_ellipsis != "none" or not sized_fonts:
            _own_layout(textbox.pango_layout, textbox.style)
            return original(stream, textbox, text_overflow, block_ellipsis, matrix)
        if not textbox.text.strip():
            return []
        if textbox.style["font_size"] < 1e-6:
            return []
        layout = textbox.pango_layout
        pango.pango_layout_set_single_paragraph_mode(layout.layout, True)
        first_line, _ = layout.get_first_line()

        operators, mark, current_font = stream.stream, len(stream.stream), stream._current_font
        stream.set_text_matrix(*matrix.values)
        previous_pango_font = None
        string = ""
        utf8_text = None
        run = first_line.runs[0]
        while run != ffi.NULL:
            glyph_item = run.data
            run = run.next
            glyph_string = glyph_item.glyphs
            num_glyphs = glyph_string.num_glyphs
            clusters = glyph_string.log_clusters
            item = glyph_item.item

            pango_font = item.analysis.font
            if pango_font != previous_pango_font:
                previous_pango_font = pango_font
                font, font_size = stream.add_font(pango_font)
                if font.png or font.svg or font.colr:
                    del operators[mark:]
                    stream._current_font = current_font
                    return original(stream, textbox, text_overflow, block_ellipsis, matrix)
                if string:
                    stream.show_text(string)
                string = ""
                stream.set_font_size(font.hash, 1 if font.bitmap else font_size)
                to_unicode, widths, bitmap = font.to_unicode, font.widths, font.bitmap
            string += "<"
            # PangoGlyphInfo: glyph, width, x_offset, y_offset, attributes (5 × 32 bits)
            values = ffi.unpack(ffi.cast("int32_t *", glyph_string.glyphs), 5 * num_glyphs)
            for i, (glyph_id, width, x_offset, y_offset) in enumerate(zip(
                    values[0::5], values[1::5], values[2::5], values[3::5])):
                glyph_id &= 0xFFFFFFFF  # a guint

                if glyph_id == empty_glyph:
                    string += f">{-width / font_size}<"
                    continue

                if glyph_id & unknown_flag:
                    codepoint = glyph_id - unknown_flag
                    LOGGER.warning(
                        ".notdef glyph rendered for Unicode string unsupported by fonts: "
                        '"%s" (U+%04X)', chr(codepoint), codepoint)
                    glyph_id = font.get_unused_glyph_id(codepoint)
                    widths[glyph_id] = round(width * 1000 * FROM_UNITS / font_size)
                    if 0 not in widths:
                        widths[0] = widths[glyph_id]

                if glyph_id not in to_unicode:
                    offset = item.offset
                    t1 = clusters[i]
                    if item.analysis.level % 2:  # rtl
                        t2 = item.length if i == 0 else clusters[i - 1]
                    else:
                        t2 = item.length if i == num_glyphs - 1 else clusters[i + 1]
                    utf8_text = utf8_text or layout.text.encode()
                    to_unicode[glyph_id] = utf8_text[offset + t1:offset + t2].decode()

                offset = x_offset / font_size
                rise = y_offset / 1000
                if rise:
                    if string[-1] == "<":
                        string = string[:-1]
                    else:
                        string += ">"
                    if string:
                        stream.show_text(string)
                    stream.set_text_rise(-rise)
                    string = ""
                    if offset:
                        string = f"{-offset}"
                    string += f"<{glyph_id:02x}>" if bitmap else f"<{glyph_id:04x}>"
                    stream.show_text(string)
                    stream.set_text_rise(0)
                    string = "<"
                else:
                    if offset:
                        string += f">{-offset}<"
                    string += f"{glyph_id:02x}" if bitmap else f"{glyph_id:04x}"

                logical_width = widths.get(glyph_id)
                if logical_width is None:
                    pango.pango_font_get_glyph_extents(
                        pango_font, glyph_id, stream.ink_rect, stream.logical_rect)
                    logical_width = widths[glyph_id] = round(
                        stream.logical_rect.width * 1000 * FROM_UNITS / font_size)

                kerning = logical_width + offset - width * 1000 * FROM_UNITS / font_size
                if kerning:
                    string += f">{int(kerning)}<"

            if string[-1] == "<":
                string = string[:-1]
            else:
                string += ">"

        stream.show_text(string)
        return []

    setattr(draw_first_line, _UNSHARES, True)
    return [(text, "draw_first_line", draw_first_line)]


# --- normal_flow ----------------------------------------------------------------------------

_FLOATED = ("left", "right", "inline-start", "inline-end")  # Box.is_floated's values


def _normal_flow() -> list[tuple[Any, str, Any]]:
    from weasyprint.formatting_structure.boxes import Box

    def is_in_normal_flow(self: Any) -> bool:
        """``Box.is_in_normal_flow``: its five tests (floated, absolutely positioned, running,
        footnote, note) on the two style values they read, without five method calls."""
        style = self.style
        float_ = style["float"]
        if float_ in _FLOATED:
            return False
        position = style["position"]
        return not (position in ("absolute", "fixed") or position[0] == "running()"
                    or float_ == "footnote" or position[0] == "note()")

    return [(Box, "is_in_normal_flow", is_in_normal_flow)]


# --- no_floats ------------------------------------------------------------------------------

def _no_floats() -> list[tuple[Any, str, Any]]:
    from weasyprint.layout import block, inline
    from weasyprint.layout import float as floats

    original = floats.avoid_collisions

    def avoid_collisions(context: Any, box: Any, containing_block: Any,
                         outer: bool = True) -> tuple[Any, Any, Any]:
        """``avoid_collisions`` when no float has been placed (``excluded_shapes`` empty): the
        containing block's bounds, without the search for colliding shapes; left-to-right
        only (WeasyPrint's own for right-to-left)."""
        if context.excluded_shapes or containing_block.style["direction"] != "ltr":
            return original(context, box, containing_block, outer)
        position_y = box.position_y if outer else box.border_box_y()
        if outer:  # evaluated as WeasyPrint does: they raise for a box not yet sized
            box.margin_width(), box.margin_height()
        else:
            box.border_width(), box.border_height()
        if box.border_height() == 0 and box.is_floated():
            return 0, position_y, containing_block.width
        max_left_bound = containing_block.content_box_x()
        max_right_bound = max_left_bound + containing_block.width
        if not outer:
            max_left_bound += box.margin_left
            max_right_bound -= box.margin_right
        position_x = max_left_bound
        available_width = max_right_bound - max_left_bound
        if not outer:
            position_x -= box.margin_left
            position_y -= box.margin_top
        return position_x, position_y, available_width

    return [(module, "avoid_collisions", avoid_collisions) for module in (floats, block, inline)]


# --- rgb_colors -----------------------------------------------------------------------------

_RGB_SPACES = ("srgb", "hsl", "hwb")  # drawn with WeasyPrint's set_color_rgb
_rgb_operators: dict[tuple[Any, ...], bytes] = {}  # (space, *channels, stroke) -> "r g b rg"


def _rgb_colors() -> list[tuple[Any, str, Any]]:
    from weasyprint.pdf.stream import Stream

    original = Stream.set_color

    def set_color(self: Any, color: Any, stroke: bool = False) -> None:
        """``Stream.set_color`` with an sRGB, HSL or HWB colour's operator (its conversion to
        sRGB and its numbers written out) made once per colour; WeasyPrint's own for other
        spaces and for a colour's first use."""
        if color.space not in _RGB_SPACES:
            return original(self, color, stroke)
        *channels, alpha = color
        key = (color.space, *channels, stroke)
        operator = _rgb_operators.get(key)
        if operator is None:
            operators = self.stream
            before = len(operators)
            original(self, color, stroke)
            if len(operators) > before and isinstance(operators[-1], bytes):
                if len(_rgb_operators) >= _KEPT:
                    _rgb_operators.clear()
                last = operators[-1]
                if last.endswith(b" RG" if stroke else b" rg"):
                    _rgb_operators[key] = last
            return None
        self.set_alpha(alpha, stroke)
        current = key[:-1]
        if stroke:
            if current == self._current_color_stroke:
                return None
            self._current_color_stroke = current
        else:
            if current == self._current_color:
                return None
            self._current_color = current
        self.stream.append(operator)
        return None

    return [(Stream, "set_color", set_color)]


# --- plain_contexts -------------------------------------------------------------------------

class _Stacked:
    """``Stream.stacked()``: the graphics state saved on entering, restored on leaving."""

    __slots__ = ("stream",)

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __enter__(self) -> None:
        self.stream.push_state()

    def __exit__(self, *exc_info: object) -> None:
        self.stream.pop_state()


class _Artifact:
    """``Stream.artifact()``: marked content "Artifact" around the block in a tagged PDF."""

    __slots__ = ("stream", "begin", "end")

    def __init__(self, stream: Any, begin: Any, end: Any) -> None:
        self.stream, self.begin, self.end = stream, begin, end

    def __enter__(self) -> None:
        if self.stream._tags is not None:
            self.begin(self.stream, "Artifact")

    def __exit__(self, *exc_info: object) -> None:
        if self.stream._tags is not None:
            self.end(self.stream)


def _plain_contexts() -> list[tuple[Any, str, Any]]:
    import pydyf
    from weasyprint.pdf.stream import Stream

    begin, end = pydyf.Stream.begin_marked_content, pydyf.Stream.end_marked_content

    def stacked(self: Any) -> _Stacked:
        """``Stream.stacked`` as a plain context manager, not a generator (~1,400 a consent)."""
        return _Stacked(self)

    def artifact(self: Any) -> _Artifact:
        """``Stream.artifact`` as a plain context manager, not a generator."""
        return _Artifact(self, begin, end)

    return [(Stream, "stacked", stacked), (Stream, "artifact", artifact)]


# --- no_outlines ----------------------------------------------------------------------------

def _no_outlines() -> list[tuple[Any, str, Any]]:
    from weasyprint import draw
    from weasyprint.draw import border
    from weasyprint.formatting_structure.boxes import Box

    original = border.draw_outline

    def draw_outline(stream: Any, box: Any) -> None:
        """``draw_outline``, going down the boxes without its colour and geometry work for
        those with no outline (a zero width, as every ``outline-style: none`` computes to);
        WeasyPrint's own draws a box with one, and the boxes inside it."""
        if box.style["outline_width"]:
            original(stream, box)
            return
        for child in box.children:
            if isinstance(child, Box):
                draw_outline(stream, child)

    return [(border, "draw_outline", draw_outline), (draw, "draw_outline", draw_outline)]


# --- collapsed_borders ----------------------------------------------------------------------

_SIDES = ("top", "right", "bottom", "left")
_SIDE_KEYS = {side: (f"border_{side}_style", f"border_{side}_width", f"border_{side}_color")
              for side in _SIDES}
_USED_WIDTHS = {side: f"border_{side}_width" for side in _SIDES}


def _collapsed_borders() -> list[tuple[Any, str, Any]]:
    from weasyprint.formatting_structure import build
    from weasyprint.layout import table as tables

    transparent = tables.TRANSPARENT
    styles = reversed([
        "hidden", "double", "solid", "dashed", "dotted", "ridge", "outset",
        "groove", "inset", "none"])
    style_scores = {style: score for score, style in enumerate(styles)}
    style_map = {"inset": "ridge", "outset": "groove"}

    def collapse_table_borders(table: Any, grid_width: int, grid_height: int) -> Any:
        """WeasyPrint 70's ``collapse_table_borders`` with each box's border on each side
        (style, width, colour and score) read from its style once, not once per grid cell it
        borders (a row's top and bottom for every column, the table's for every row and
        column), and used widths set without building each attribute name."""
        if not (grid_width and grid_height):
            return [], []

        weak_null_border = ((0, 0, style_scores["none"]), ("none", 0, transparent))
        vertical_borders = [
            [weak_null_border] * (grid_width + 1) for _ in range(grid_height)]
        horizontal_borders = [
            [weak_null_border] * grid_width for _ in range(grid_height + 1)]
        borders: dict[tuple[int, str], Any] = {}  # (id(style), side) -> (score, border)
        kept_styles = []  # the styles of ``borders``' keys, alive while they are used

        def border_of(box_style: Any, side: str) -> Any:
            border = borders.get((id(box_style), side))
            if border is None:
                style_key, width_key, color_key = _SIDE_KEYS[side]
                style = box_style[style_key]
                width = box_style[width_key]
                color = box_style[color_key]
                if color == "currentcolor":
                    color = box_style["color"]
                score = ((1 if style == "hidden" else 0), width, style_scores[style])
                style = style_map.get(style, style)
                border = borders[id(box_style), side] = (score, (style, width, color))
                kept_styles.append(box_style)
            return border

        def set_one_border(border_grid: Any, box_style: Any, side: str, grid_x: int,
                           grid_y: int) -> None:
            border = border_of(box_style, side)
            previous_score, _ = border_grid[grid_y][grid_x]
            if previous_score < border[0]:  # strict: the earlier call wins a tie
                border_grid[grid_y][grid_x] = border

        def set_borders(box: Any, x: int, y: int, w: int, h: int) -> None:
            style = box.style
            if table.style["direction"] == "ltr":
                for yy in range(y, y + h):
                    set_one_border(vertical_borders, style, "left", x, yy)
                    set_one_border(vertical_borders, style, "right", x + w, yy)
                for xx in range(x, x + w):
                    set_one_border(horizontal_borders, style, "top", xx, y)
                    set_one_border(horizontal_borders, style, "bottom", xx, y + h)
            else:
                for yy in range(y, y + h):
                    set_one_border(vertical_borders, style, "left", -1 - w - x, yy)
                    set_one_border(vertical_borders, style, "right", -1 - x, yy)
                for xx in range(-1 - x, -1 - x - w, -1):
                    set_one_border(horizontal_borders, style, "top", xx, y)
                    set_one_border(horizontal_borders, style, "bottom", xx, y + h)

        strong_null_border = ((1, 0, style_scores["hidden"]), ("hidden", 0, transparent))
        grid_y = 0
        for row_group in table.children:
            for row in row_group.children:
                for cell in row.children:
                    grid_x, colspan, rowspan = cell.grid_x, cell.colspan, cell.rowspan
                    if table.style["direction"] == "ltr":
                        vertical_x_range = range(grid_x + 1, grid_x + colspan)
                        horizontal_x_range = range(grid_x, grid_x + colspan)
                    else:
                        vertical_x_range = range(-2 - grid_x, -1 - grid_x - colspan, -1)
                        horizontal_x_range = range(-1 - grid_x, -1 - grid_x - colspan, -1)
                    for xx in vertical_x_range:
                        for yy in range(grid_y, grid_y + rowspan):
                            vertical_borders[yy][xx] = strong_null_border
                    for xx in horizontal_x_range:
                        for yy in range(grid_y + 1, grid_y + rowspan):
                            horizontal_borders[yy][xx] = strong_null_border
                    set_borders(cell, grid_x, grid_y, colspan, rowspan)
                grid_y += 1

        grid_y = 0
        for row_group in table.children:
            for row in row_group.children:
                set_borders(row, 0, grid_y, grid_width, 1)
                grid_y += 1

        grid_y = 0
        for row_group in table.children:
            rowspan = len(row_group.children)
            set_borders(row_group, 0, grid_y, grid_width, rowspan)
            grid_y += rowspan

        for column_group in table.column_groups:
            for column in column_group.children:
                set_borders(column, column.grid_x, 0, 1, grid_height)

        for column_group in table.column_groups:
            set_borders(
                column_group, column_group.grid_x, 0, column_group.span, grid_height)

        set_borders(table, 0, 0, grid_width, grid_height)

        def set_border_used_width(box: Any, side: str, twice_width: Any) -> None:
            setattr(box, _USED_WIDTHS[side], twice_width / 2)

        def remove_borders(box: Any) -> None:
            for side in _SIDES:
                setattr(box, _USED_WIDTHS[side], 0 / 2)

        def max_vertical_width(x: int, y1: int, y2: int) -> Any:
            return max(grid_row[x][1][1] for grid_row in vertical_borders[y1:y2])

        def max_horizontal_width(x1: int, y: int, x2: Any) -> Any:
            return max(width for _, (_, width, _) in horizontal_borders[y][x1:x2])

        grid_y = 0
        for row_group in table.children:
            remove_borders(row_group)
            for row in row_group.children:
                remove_borders(row)
                for cell in row.children:
                    x, y = cell.grid_x, grid_y
                    colspan, rowspan = cell.colspan, cell.rowspan
                    if table.style["direction"] == "ltr":
                        top = max_horizontal_width(x, y, x + colspan)
                        bottom = max_horizontal_width(x, y + rowspan, x + colspan)
                        left = max_vertical_width(x, y, y + rowspan)
                        right = max_vertical_width(x + colspan, y, y + rowspan)
                    else:
                        top = max_horizontal_width(-colspan - x, y, -x or None)
                        bottom = max_horizontal_width(-colspan - x, y + rowspan, -x or None)
                        left = max_vertical_width(-1 - colspan - x, y, y + rowspan)
                        right = max_vertical_width(-1 - x, y, y + rowspan)
                    set_border_used_width(cell, "top", top)
                    set_border_used_width(cell, "bottom", bottom)
                    set_border_used_width(cell, "left", left)
                    set_border_used_width(cell, "right", right)
                grid_y += 1

        for column_group in table.column_groups:
            remove_borders(column_group)
            for column in column_group.children:
                remove_borders(column)

        set_border_used_width(table, "top", max_horizontal_width(0, 0, grid_width))
        set_border_used_width(
            table, "bottom", max_horizontal_width(0, grid_height, grid_width))
        set_border_used_width(table, "left", max_vertical_width(0, 0, 1))
        set_border_used_width(table, "right", max_vertical_width(grid_width, 0, 1))
        return vertical_borders, horizontal_borders

    return [(tables, "collapse_table_borders", collapse_table_borders),
            (build, "collapse_table_borders", collapse_table_borders)]


CHANGES: dict[str, _Change] = {
    "pango_setup": _Change("pango_setup", _pango_setup),
    "keep_line_layouts": _Change("keep_line_layouts", _keep_line_layouts),
    "percentages": _Change("percentages", _percentages),
    "computed_values": _Change("computed_values", _computed_values),
    "margin_box_sizes": _Change("margin_box_sizes", _margin_box_sizes),
    "strut_key": _Change("strut_key", _strut_key),
    "plain_backgrounds": _Change("plain_backgrounds", _plain_backgrounds),
    "glyph_runs": _Change("glyph_runs", _glyph_runs),
    "normal_flow": _Change("normal_flow", _normal_flow),
    "no_floats": _Change("no_floats", _no_floats),
    "rgb_colors": _Change("rgb_colors", _rgb_colors),
    "plain_contexts": _Change("plain_contexts", _plain_contexts),
    "no_outlines": _Change("no_outlines", _no_outlines),
    "collapsed_borders": _Change("collapsed_borders", _collapsed_borders),
    "line_memo": _Change("line_memo", _line_memo),
    "percentage_memo": _Change("percentage_memo", lambda: [
        (sys.modules[__name__], "_memo_percentages", True)]),
}
