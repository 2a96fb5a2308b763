"""CPU time of WeasyPrint's layout and drawing in one consent, with and without each change of
``documents.weasyprint_speed``, measured interleaved in one process (the machine is shared).

Prints one JSON object: per variant ("plain", "all", "all but NAME", "only NAME"), the median
CPU milliseconds of layout, drawing, both, and the whole render and seal.
Run: ``.venv/bin/python bench/weasyprint_speed.py [--runs 20] [--lang zh]``.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    parser.add_argument("--variants", default="", help="comma-separated; default: all of them")
    args = parser.parse_args()
    os.environ.setdefault("JIAHU_DATA_DIR", tempfile.mkdtemp(prefix="jiahu-bench-"))

    from documents import weasyprint_speed
    from documents.pdf import render_and_seal
    from documents.sample import sample_context

    names = set(weasyprint_speed.CHANGES)
    variants: dict[str, frozenset[str]] = {"plain": frozenset(), "all": frozenset(names)}
    for name in sorted(names):
        variants[f"all but {name}"] = frozenset(names - {name})
        variants[f"only {name}"] = frozenset({name})
    if args.variants:
        variants = {key: value for key, value in variants.items() if key in args.variants.split(",")}
    render_and_seal(sample_context(args.lang), with_pages=False)  # warm-up: fonts, signer
    _timed_phases()
    gc.collect()
    gc.freeze()
    results: dict[str, dict[str, list[float]]] = {key: {} for key in variants}
    for _ in range(args.runs):
        order = list(variants)
        random.shuffle(order)
        for key in order:
            with weasyprint_speed.only(variants[key]):
                context = sample_context(args.lang)
                _spent.clear()
                start = time.process_time()
                render_and_seal(context, with_pages=False)
                _spent["total"] = time.process_time() - start
            _spent["layout+draw"] = _spent["layout"] + _spent["draw"]
            for phase, seconds in _spent.items():
                results[key].setdefault(phase, []).append(seconds * 1000)
    print(json.dumps({key: {phase: round(statistics.median(values), 1)
                            for phase, values in phases.items()}
                      for key, phases in results.items()}, indent=1))


if __name__ == "__main__":
    main()
