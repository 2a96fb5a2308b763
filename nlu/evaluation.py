"""Scoring a recognizer on Rasa-format test data: accuracy, macro F1, per-intent precision
and recall, the confusions, and how many answers are right and sure enough to act on."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from nlu import training
from nlu.base import CONFIDENT
from nlu.embedded import EmbeddedRecognizer


def evaluate(recognizer: EmbeddedRecognizer, path: Path) -> dict[str, Any]:
    """Intent metrics over every example in ``path``, a file or a directory tree (no intent
    counts as a wrong answer); ``training.DataError`` when it holds no NLU examples."""
    data = training.load([path])
    examples = data.examples
    if not examples:
        skipped = f" ({'; '.join(data.notes)})" if data.notes else ""
        raise training.DataError(f"{path}: no NLU examples to evaluate{skipped}")
    gold = [e.intent for e in examples]
    parses = [recognizer.parse_sync(e.text) for e in examples]
    predicted = [p.intent or "(none)" for p in parses]
    labels = sorted(set(gold) | set(predicted) - {"(none)"})
    per_intent: dict[str, dict[str, float | int]] = {}
    for label in labels:
        tp = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        n_pred, n_gold = predicted.count(label), gold.count(label)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[label] = {"precision": round(precision, 4), "recall": round(recall, 4),
                             "f1": round(f1, 4), "support": n_gold}
    scored = [s for s in per_intent.values() if s["support"]]
    confusions = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    errors = [{"text": e.text, "intent": g, "predicted": p}
              for e, g, p in zip(examples, gold, predicted, strict=True) if g != p]
    return {
        "file": str(path),
        "examples": len(examples),
        "accuracy": round(sum(g == p for g, p in zip(gold, predicted, strict=True))
                          / max(len(examples), 1), 4),
        "macro_f1": round(sum(float(s["f1"]) for s in scored) / max(len(scored), 1), 4),
        "per_intent": per_intent,
        "confusions": [{"intent": g, "predicted": p, "count": n}
                       for (g, p), n in confusions.most_common()],
        "errors": errors,
        "threshold": CONFIDENT,
        "confident_right": round(sum(g == p.intent and p.confidence >= CONFIDENT
                                     for g, p in zip(gold, parses, strict=True))
                                 / len(examples), 4),
        "predictions": [{"text": e.text, "intent": g, "predicted": p.intent,
                         "confidence": p.confidence}
                        for e, g, p in zip(examples, gold, parses, strict=True)],
        "skipped": data.notes,
    }
