"""Time to render and seal one full consent (all pages, audit trail, PAdES signature).

Prints one JSON object: median and p95 in milliseconds, page count and bytes. Page images
(PNG, for WeChat) are timed apart, as ``pages_ms_median``. ``cpu_ms_median`` is the CPU time of
one consent, which other work on a shared machine stretches less than the wall time.
Each run seals another family's consent, as in service (``documents.sample.family_context``:
the sample families' four sets of services in turn, and every time a new address, person
present and visit), so the lines that only one family's consent has are laid out anew
(``documents.weasyprint_speed``'s ``line_memo`` keeps those that every consent has).
Run: ``.venv/bin/python bench/consent_pdf.py [--runs 30] [--lang zh]``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    args = parser.parse_args()
    os.environ.setdefault("JIAHU_DATA_DIR", tempfile.mkdtemp(prefix="jiahu-bench-"))

    from documents.fonts import require_fast_subsetting
    from documents.pdf import page_images, render_and_seal, warm_up
    from documents.sample import family_context

    require_fast_subsetting()
    warm_up()  # as the rendering process starts: fonts, signer, one consent, heap settled
    timings, cpu_timings, pages_timings, result = [], [], [], None
    for run in range(args.runs):
        context = family_context(args.lang, run)
        start, cpu = time.perf_counter(), time.process_time()
        result = render_and_seal(context, with_pages=False)
        timings.append((time.perf_counter() - start) * 1000)
        cpu_timings.append((time.process_time() - cpu) * 1000)
    assert result is not None
    for _ in range(min(5, args.runs)):
        start = time.perf_counter()
        images = page_images(result.pdf)
        pages_timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    print(json.dumps({
        "lang": args.lang, "runs": args.runs,
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.95))], 1),
        "cpu_ms_median": round(statistics.median(cpu_timings), 1),
        "pages": len(images), "bytes": len(result.pdf),
        "pages_ms_median": round(statistics.median(pages_timings), 1),
        "png_bytes": sum(len(i) for i in images),
    }))


if __name__ == "__main__":
    main()
