"""Benchmark of the embedded recognizer: one JSON object with parse latency p50/p99 (ms,
after warm-up), training time (s) and model size (bytes)."""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Run as ``python bench/nlu.py``: this file must not shadow the ``nlu`` package.
_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import structlog  # noqa: E402

from nlu import training  # noqa: E402
from nlu.embedded import EmbeddedRecognizer, model_info  # noqa: E402

structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        recognizer = EmbeddedRecognizer(Path(tmp))
        started = time.perf_counter()
        recognizer.load(force_train=True)
        training_seconds = time.perf_counter() - started
        info = model_info(recognizer)
        texts = [e.text for e in training.load([training.TEST_FILE]).examples]
        for text in texts:  # warm-up, including jionlp's first call
            recognizer.parse_sync(text)
        latencies = []
        for _ in range(5):
            for text in texts:
                begin = time.perf_counter()
                recognizer.parse_sync(text)
                latencies.append((time.perf_counter() - begin) * 1000)
        latencies.sort()
        print(json.dumps({
            "parses": len(latencies),
            "parse_ms_p50": round(statistics.median(latencies), 3),
            "parse_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1], 3),
            "training_s": round(training_seconds, 3),
            "model_bytes": info["bytes"],
        }))


if __name__ == "__main__":
    main()
