"""Benchmark of the embedded recognizer: one JSON object with parse latency p50/p99 (ms,
after warm-up; wall clock and the parsing thread's CPU time), training time (s), model size
(bytes) and the held-out scores.

``--compare`` trains every classifier kind of ``nlu.embedded.KINDS`` on nlu/data and scores
each on the held-out files, to choose ``DEFAULT_KIND`` by measurement.
"""
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

from nlu import CONFIDENT, training  # noqa: E402
from nlu.embedded import KINDS, EmbeddedRecognizer, model_info, train  # noqa: E402

structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))

_HELD_OUT = (training.HELD_OUT_FILE, training.TEST_FILE)


def _scores(model_probabilities: object, path: Path) -> dict[str, float]:
    examples = training.load([path]).examples
    right = confident = 0
    for example in examples:
        ranking = model_probabilities(example.text)  # type: ignore[operator]
        intent, confidence = ranking[0] if ranking else (None, 0.0)
        right += intent == example.intent
        confident += intent == example.intent and confidence >= CONFIDENT
    return {"accuracy": round(right / len(examples), 3),
            "confident_right": round(confident / len(examples), 3)}


def compare() -> None:
    data = training.load(training.training_files())
    for kind in KINDS:
        started = time.perf_counter()
        model = train(data, kind=kind)
        seconds = time.perf_counter() - started
        row: dict[str, object] = {"kind": kind, "training_s": round(seconds, 2)}
        for path in _HELD_OUT:
            row[path.stem] = _scores(model.probabilities, path)
        print(json.dumps(row))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        recognizer = EmbeddedRecognizer(Path(tmp))
        started = time.perf_counter()
        recognizer.load(force_train=True)
        training_seconds = time.perf_counter() - started
        info = model_info(recognizer)
        texts = [e.text for path in _HELD_OUT for e in training.load([path]).examples]
        for text in texts:  # warm-up, including jionlp's and jieba's first calls
            recognizer.parse_sync(text)
        latencies, cpu = [], []
        for _ in range(5):
            for text in texts:
                begin, begin_cpu = time.perf_counter(), time.thread_time()
                recognizer.parse_sync(text)
                latencies.append((time.perf_counter() - begin) * 1000)
                cpu.append((time.thread_time() - begin_cpu) * 1000)
        latencies.sort()
        cpu.sort()
        model = recognizer.load()
        print(json.dumps({
            "parses": len(latencies),
            "parse_ms_p50": round(statistics.median(latencies), 3),
            "parse_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1], 3),
            # CPU time of the parsing thread: what the parse costs, without the waits of a
            # machine shared with other work (wall-clock p99 there measures the neighbours).
            "parse_cpu_ms_p50": round(statistics.median(cpu), 3),
            "parse_cpu_ms_p99": round(cpu[int(len(cpu) * 0.99) - 1], 3),
            "training_s": round(training_seconds, 3),
            "model_bytes": info["bytes"],
            "kind": model.kind,
            **{path.stem: _scores(model.probabilities, path) for path in _HELD_OUT},
        }))


if __name__ == "__main__":
    compare() if "--compare" in sys.argv[1:] else main()
