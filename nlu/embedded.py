"""The embedded recognizer: a character n-gram classifier trained from ``nlu/data/*.yml``.

Character n-grams suit both Chinese (no word boundaries) and voice-typed or misspelt text.
The model is saved as ``DATA_DIR/nlu/model-<hash>.joblib``, the hash covering the training
files and ``CODE_VERSION``; a missing or stale model is trained on first use.
"""
from __future__ import annotations

import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import joblib
import sklearn
import structlog
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from nlu import training
from nlu.base import Entity, Parse
from nlu.entities import TermMatcher, extract_all

log = structlog.get_logger(__name__)

#: Bump when preprocessing, features or the model change, so saved models are retrained.
CODE_VERSION = f"embedded-3/sklearn-{sklearn.__version__}"

# Entities the rules normalise or validate (ISO dates, stdnum-checked IDs): data files may not
# add raw matches for them.
_RULE_ONLY = {"date", "time", "phone", "id_number"}
_PUNCT = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d")


def normalise(text: str) -> str:
    """What the classifier sees: NFKC (full-width → half-width), lower case, digits as 0,
    punctuation as single spaces — voice input has none, typed input has plenty."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _DIGITS.sub("0", text)
    return _PUNCT.sub(" ", text).strip()


def _pipeline() -> Pipeline:
    features = FeatureUnion([
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True,
                                  min_df=1)),
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                  token_pattern=r"(?u)\b[a-z][a-z']+\b")),
    ])
    classifier = LogisticRegression(C=20.0, max_iter=3000)
    return Pipeline([("features", features), ("classifier", classifier)])


@dataclass
class Model:
    """What is saved: the fitted pipeline, exact training texts and the data-file entity terms."""

    fingerprint: str
    pipeline: Pipeline
    exact: dict[str, str]
    entity_terms: dict[str, dict[str, list[str]]]
    regexes: dict[str, list[str]]
    training_seconds: float


def train(data: training.TrainingData, fingerprint: str = "") -> Model:
    """Fit the classifier on every example (a few seconds on two cores)."""
    started = time.perf_counter()
    texts = [normalise(e.text) for e in data.examples]
    labels = [e.intent for e in data.examples]
    pipeline = _pipeline()
    pipeline.fit(texts, labels)
    seen: dict[str, set[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        seen.setdefault(text, set()).add(label)
    exact = {text: next(iter(found)) for text, found in seen.items() if len(found) == 1 and text}
    return Model(fingerprint, pipeline, exact, data.entity_terms(), data.regexes,
                 time.perf_counter() - started)


class EmbeddedRecognizer:
    """Intents from the local model, entities from ``nlu.entities`` plus the data files."""

    def __init__(self, model_dir: Path | None = None, data_dir: Path = training.DATA_DIR) -> None:
        if model_dir is None:
            from backend.settings import get_settings  # noqa: PLC0415

            model_dir = get_settings().data_dir / "nlu"
        self.model_dir = model_dir
        self.data_dir = data_dir
        self._model: Model | None = None
        self._lock = threading.Lock()
        self._matchers: list[TermMatcher] = []
        self._regexes: list[tuple[str, re.Pattern[str]]] = []

    def fingerprint(self) -> str:
        return training.fingerprint(training.training_files(self.data_dir), CODE_VERSION)

    def model_path(self) -> Path:
        return self.model_dir / f"model-{self.fingerprint()}.joblib"

    def load(self, *, force_train: bool = False) -> Model:
        """The current model: loaded from disk, or trained and saved when missing or stale."""
        with self._lock:
            path = self.model_path()
            if self._model is not None and not force_train \
                    and self._model.fingerprint == path.stem.removeprefix("model-"):
                return self._model
            model = None if force_train or not path.exists() else self._read(path)
            if model is None:
                model = self._train_and_save(path)
            self._install(model)
            return model

    def _read(self, path: Path) -> Model | None:
        try:
            model = joblib.load(path)
        except Exception as exc:  # noqa: BLE001 - a damaged file is retrained, not fatal
            log.warning("nlu.model_unreadable", path=str(path), error=repr(exc))
            return None
        return model if isinstance(model, Model) else None

    def _train_and_save(self, path: Path) -> Model:
        files = training.training_files(self.data_dir)
        model = train(training.load(files), path.stem.removeprefix("model-"))
        self.model_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        joblib.dump(model, partial, compress=3)
        partial.replace(path)
        for old in self.model_dir.glob("model-*.joblib"):
            if old != path:
                old.unlink(missing_ok=True)
        log.info("nlu.model_trained", path=str(path), examples=len(model.exact),
                 seconds=round(model.training_seconds, 2))
        return model

    def _install(self, model: Model) -> None:
        self._matchers = [TermMatcher(entity, table) for entity, table in model.entity_terms.items()
                          if entity not in _RULE_ONLY]
        self._regexes = [(entity, re.compile(pattern)) for entity, patterns in model.regexes.items()
                         if entity not in _RULE_ONLY for pattern in patterns]
        self._model = model

    def classify(self, text: str) -> list[tuple[str, float]]:
        """Every intent with its probability, best first."""
        model = self._model or self.load()
        cleaned = normalise(text)
        if not cleaned:
            return []
        if cleaned in model.exact:
            return [(model.exact[cleaned], 1.0)]
        probabilities = model.pipeline.predict_proba([cleaned])[0]
        classes = model.pipeline.classes_
        return sorted(((str(c), round(float(p), 4)) for c, p in zip(classes, probabilities,
                                                                      strict=True)),
                      key=lambda pair: -pair[1])

    def entities(self, text: str, today: date | None = None) -> list[Entity]:
        """Rule entities, then data-file terms and regexes where no rule entity of the same
        kind covers the span (the rules' values are normalised, so they win)."""
        if self._model is None:
            self.load()
        found = extract_all(text, today)
        extra: list[Entity] = []
        for matcher in self._matchers:
            extra.extend(matcher.find(text, "lookup"))
        for entity, pattern in self._regexes:
            extra.extend(Entity(entity, m[0], m.start(), m.end(), m[0], "regex")
                         for m in pattern.finditer(text))
        for candidate in extra:
            same = [e for e in found if e.entity == candidate.entity]
            if any(e.start < candidate.end and candidate.start < e.end or e.value == candidate.value
                   for e in same):
                continue
            found.append(candidate)
        return sorted(found, key=lambda e: (e.start, -e.end))

    def parse_sync(self, text: str, today: date | None = None) -> Parse:
        ranking = self.classify(text)
        intent, confidence = ranking[0] if ranking else (None, 0.0)
        return Parse(text, intent, confidence, self.entities(text, today), ranking)

    async def parse(self, text: str) -> Parse:
        return self.parse_sync(text)


def model_info(recognizer: EmbeddedRecognizer) -> dict[str, Any]:
    """Path, size and training time of the current model (for the CLI and the bench)."""
    model = recognizer.load()
    path = recognizer.model_path()
    return {"path": str(path), "bytes": path.stat().st_size if path.exists() else 0,
            "training_seconds": round(model.training_seconds, 3), "fingerprint": model.fingerprint}
