"""CPU time of WeasyPrint's layout and drawing in one consent, with and without the changes of
``documents.weasyprint_speed``, measured interleaved in one process (the machine is shared).

Two modes, each printing one JSON object of medians in CPU milliseconds:

- by default, whole consents (render and seal) with each variant of the changes ("plain", "all",
  "all but NAME", "only NAME"; ``--variants`` picks some) in random order each round: layout,
  drawing, both, and the whole consent;
- ``--change NAME``: the same parsed consent rendered with every change and with every change
  but NAME, alternately, garbage collection off: ``render`` (styles, boxes, layout) and
  ``draw`` (painting the pages), the steadier way to see one change's gain.

Run: ``.venv/bin/python bench/weasyprint_speed.py [--runs 20] [--lang zh] [--change NAME]``.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_spent: dict[str, float] = {}


def _timed_phases() -> None:
    """Adds each phase's CPU time of a render to ``_spent``."""
    from weasyprint import document

    layout_document, paint = document.layout_document, document.Page.paint

    def timed_layout(*args: Any, **kwargs: Any) -> Iterator[Any]:
        pages = layout_document(*args, **kwargs)
        while True:
            start = time.process_time()
            try:
                page = next(pages)
            except StopIteration:
                return
            finally:
                _spent["layout"] = _spent.get("layout", 0.0) + time.process_time() - start
            yield page

    def timed_paint(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return paint(*args, **kwargs)
        finally:
            _spent["draw"] = _spent.get("draw", 0.0) + time.process_time() - start

    document.layout_document = timed_layout
    document.Page.paint = timed_paint


def _medians(results: dict[str, dict[str, list[float]]]) -> str:
    return json.dumps({key: {phase: round(statistics.median(values), 1)
                             for phase, values in phases.items()}
                       for key, phases in results.items()}, indent=1)


def _variants(runs: int, lang: str, chosen: str) -> None:
    from documents import weasyprint_speed
    from documents.pdf import render_and_seal
    from documents.sample import sample_context

    names = set(weasyprint_speed.CHANGES)
    variants: dict[str, frozenset[str]] = {"plain": frozenset(), "all": frozenset(names)}
    for name in sorted(names):
        variants[f"all but {name}"] = frozenset(names - {name})
        variants[f"only {name}"] = frozenset({name})
    if chosen:
        variants = {key: value for key, value in variants.items() if key in chosen.split(",")}
    results: dict[str, dict[str, list[float]]] = {key: {} for key in variants}
    for _ in range(runs):
        order = list(variants)
        random.shuffle(order)
        for key in order:
            with weasyprint_speed.only(variants[key]):
                context = sample_context(lang)
                _spent.clear()
                start = time.process_time()
                render_and_seal(context, with_pages=False)
                _spent["total"] = time.process_time() - start
            _spent["layout+draw"] = _spent["layout"] + _spent["draw"]
            for phase, seconds in _spent.items():
                results[key].setdefault(phase, []).append(seconds * 1000)
    print(_medians(results))


def _one_change(runs: int, lang: str, name: str) -> None:
    from documents import patches, weasyprint_speed
    from documents.consent import TEMPLATES, content_sha256
    from documents.pdf import _render_html, _stylesheet, _user_agent_stylesheet
    from documents.render import shared_font_config
    from documents.sample import sample_context
    from documents.seal import current_sealer

    context = replace(sample_context(lang), development_seal=True)
    html = _render_html(context, content_sha256(context), current_sealer())
    parsed = patches.html_with_user_agent_stylesheet(_user_agent_stylesheet())(
        string=html, base_url=str(TEMPLATES))
    every = frozenset(weasyprint_speed.CHANGES)
    variants = {"all": every, f"all but {name}": every - {name}}
    results: dict[str, dict[str, list[float]]] = {key: {} for key in variants}
    gc.collect()
    gc.disable()
    try:
        for run in range(runs):
            for key in list(variants)[::1 if run % 2 else -1]:
                with weasyprint_speed.only(variants[key]):
                    start = time.process_time()
                    document = parsed.render(stylesheets=[_stylesheet()],
                                             font_config=shared_font_config())
                    render = time.process_time() - start
                    _spent.clear()
                    document.write_pdf()
                results[key].setdefault("render", []).append(render * 1000)
                results[key].setdefault("draw", []).append(_spent["draw"] * 1000)
                gc.collect()
    finally:
        gc.enable()
    print(_medians(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    parser.add_argument("--variants", default="", help="comma-separated; default: all of them")
    parser.add_argument("--change", default="", help="one change against the full set")
    args = parser.parse_args()
    os.environ.setdefault("JIAHU_DATA_DIR", tempfile.mkdtemp(prefix="jiahu-bench-"))

    from documents.pdf import render_and_seal
    from documents.sample import sample_context

    render_and_seal(sample_context(args.lang), with_pages=False)  # warm-up: fonts, signer
    _timed_phases()
    gc.collect()
    gc.freeze()
    if args.change:
        _one_change(args.runs, args.lang, args.change)
    else:
        _variants(args.runs, args.lang, args.variants)


if __name__ == "__main__":
    main()
