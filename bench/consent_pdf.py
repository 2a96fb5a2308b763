"""Time to render and seal one full consent (all pages, audit trail, PAdES signature).

Prints one JSON object: median and p95 in milliseconds, page count and bytes. Page images
(PNG, for WeChat) are timed apart, as ``pages_ms_median``. ``cpu_ms_median`` is the CPU time of
one consent, which other work on a shared machine stretches less than the wall time.
Each run seals another family's consent, as in service: the sample families' four sets of
services in turn, and every time a new address, person present and visit, so the lines that
only one family's consent has are measured anew (``documents.weasyprint_speed``'s
``line_memo`` keeps those that every consent has).
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
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from documents.consent import ConsentContext


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    args = parser.parse_args()
    os.environ.setdefault("JIAHU_DATA_DIR", tempfile.mkdtemp(prefix="jiahu-bench-"))

    from documents.fonts import require_fast_subsetting
    from documents.pdf import page_images, render_and_seal, warm_up

    require_fast_subsetting()
    warm_up()  # as the rendering process starts: fonts, signer, one consent, heap settled
    timings, cpu_timings, pages_timings, result = [], [], [], None
    for run in range(args.runs):
        context = another_family(args.lang, run)
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


_SURNAMES = "王李张刘陈杨黄赵吴周"
_GIVEN_NAMES = ("秀英", "桂兰", "建国", "丽", "洋", "振华", "美玲", "淑珍", "志强", "海燕")


def another_family(lang: str, run: int) -> ConsentContext:
    """The consent of the ``run``-th family: one of the sample families' services, with an
    address, a person present and a visit of its own."""
    from documents.sample import sample_context

    context = sample_context(lang, family=run)
    present = _SURNAMES[run % 10] + _GIVEN_NAMES[(run // 10 + run) % 10]
    day = 1 + run % 28
    if lang == "zh":
        address = f"北京市朝阳区示例路{run + 1}号院{run % 7 + 1}号楼{101 + run}室"
        visit = f"2026年12月{day}日 {8 + run % 9:02d}:00–{10 + run % 9:02d}:00"
    else:
        address = f"Flat {101 + run}, Building {run % 7 + 1}, No. {run + 1} Example Road, Beijing"
        visit = f"{day} December 2026, {8 + run % 9:02d}:00–{10 + run % 9:02d}:00"
    return replace(context, patient_address=address, present_name=present, visit=visit)


if __name__ == "__main__":
    main()
