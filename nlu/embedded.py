"""The embedded recognizer: a linear classifier over character n-grams, jieba words and
pinyin syllables, trained from the Rasa data in ``nlu/data``.

Character n-grams suit voice-typed or misspelt text, jieba words keep 换药 apart from 换 + 药,
pinyin syllables read a homophone typo (换要, 海店) as the word meant; all read the text after ``nlu.normalise`` (simplified characters, numbers as placeholders,
thanks and filler dropped). Confidence is calibrated by a temperature fitted on
cross-validated scores. The model is saved as ``DATA_DIR/nlu/model-<hash>.joblib``, the hash covering the training
files and ``CODE_VERSION``; a missing or stale model is trained on first use.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
import structlog
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from backend import clock
from backend.config import catalogue, hospital_config
from nlu import training
from nlu.base import Entity, Parse
from nlu.entities import TermMatcher, extract_all
from nlu.normalise import content_free, normalise, syllables, topic_only, words

log = structlog.get_logger(__name__)

#: Bump when preprocessing, features or the model change, so saved models are retrained.
CODE_VERSION = f"embedded-5/sklearn-{sklearn.__version__}"
#: The classifier kept after comparing the alternatives on the held-out file (README, "nlu/").
DEFAULT_KIND = "svm-words"
KINDS = ("lr-chars", "lr-words", "svm-chars", "svm-words", "svm-sigmoid-words", "sgd-words",
         "nb-words")

# Entities the rules normalise or validate (ISO dates, stdnum-checked IDs): data files may not
# add raw matches for them.
_RULE_ONLY = {"date", "time", "phone", "id_number"}
_TOPIC_FLATTER = 1.3
_MIN_CHINESE = 10  # examples with Chinese characters needed for the pinyin features
_READINGS_KEPT = 2048  # recent (text, day) readings kept by a recognizer
_SEP = "\x00"  # between the normalised text and the regex / lookup feature names


def _text_part(features: str) -> str:
    return features.partition(_SEP)[0]


def _word_ngrams(features: str) -> list[str]:
    """jieba words and word pairs of the text, plus the names of matching regexes / lookups."""
    text, _, marks = features.partition(_SEP)
    tokens = words(text)
    return [*tokens, *(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)),
            *marks.split()]


def _pinyin_ngrams(features: str) -> list[str]:
    """Toneless pinyin syllables of the Chinese text and syllable pairs within a run."""
    grams: list[str] = []
    for run in syllables(_text_part(features)):
        grams += run
        grams += [f"{a}_{b}" for a, b in zip(run, run[1:], strict=False)]
    return grams


@dataclass
class Patterns:
    """Regexes and lookup tables of the data files, used as features as Rasa's
    ``RegexFeaturizer`` does: a match adds the pattern's name, never an entity."""

    regexes: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)
    lookups: list[tuple[str, TermMatcher]] = field(default_factory=list)

    @classmethod
    def from_data(cls, data: training.TrainingData) -> Patterns:
        return cls([(name, re.compile(p, re.IGNORECASE)) for name, ps in data.regexes.items()
                    for p in ps],
                   [(name, TermMatcher(name, {name: terms}))
                    for name, terms in data.lookups.items()])

    def marks(self, text: str) -> list[str]:
        found = [f"regex:{name}" for name, pattern in self.regexes if pattern.search(text)]
        found += [f"lookup:{name}" for name, matcher in self.lookups if matcher.find(text)]
        return list(dict.fromkeys(found))


def features(text: str, patterns: Patterns) -> str:
    """The classifier's input: the normalised text, then the names of matching patterns."""
    marks = patterns.marks(text)
    return normalise(text) + (_SEP + " ".join(marks) if marks else "")


def _classifier(kind: str, smallest_class: int) -> ClassifierMixin:
    folds = min(5, smallest_class)
    if kind.startswith("svm-sigmoid"):
        svm = LinearSVC(C=0.5)
        return CalibratedClassifierCV(svm, method="sigmoid", cv=folds) if folds >= 2 else svm
    if kind.startswith("svm"):
        return LinearSVC(C=0.5)
    if kind.startswith("sgd"):
        return SGDClassifier(loss="modified_huber", alpha=1e-4, max_iter=50, random_state=0)
    if kind.startswith("nb"):
        return ComplementNB(alpha=0.3)
    return LogisticRegression(C=20.0, max_iter=3000)


def _pipeline(kind: str, smallest_class: int, *, pinyin: bool = True) -> Pipeline:
    parts: list[tuple[str, Any]] = [
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True,
                                  preprocessor=_text_part)),
    ]
    if kind.endswith("-words"):
        parts.append(("words", TfidfVectorizer(analyzer=_word_ngrams, sublinear_tf=True)))
        if pinyin:
            parts.append(("pinyin", TfidfVectorizer(analyzer=_pinyin_ngrams, sublinear_tf=True)))
    return Pipeline([("features", FeatureUnion(parts)),
                     ("classifier", _classifier(kind, smallest_class))])


def _temperature(pipeline: Pipeline, inputs: list[str], labels: list[str]) -> float:
    """The softmax temperature over decision scores that makes cross-validated probabilities
    honest (lowest log-loss on examples each fold did not see)."""
    counts = np.unique(labels, return_counts=True)[1]
    folds = int(min(5, counts.min()))
    if folds < 2:
        return 1.0
    scores = cross_val_predict(sklearn.clone(pipeline), inputs, labels, method="decision_function",
                               cv=StratifiedKFold(folds, shuffle=True, random_state=0))
    classes = np.unique(labels)
    truth = np.searchsorted(classes, labels)
    best, best_loss = 1.0, float("inf")
    for temperature in np.geomspace(0.02, 5.0, 80):
        z = scores / temperature
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -float(log_p[np.arange(len(truth)), truth].mean())
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


def _scored(pipeline: Pipeline) -> bool:
    """Whether probabilities come from a softmax over decision scores (linear models that
    have no calibrated ``predict_proba`` of their own)."""
    return isinstance(pipeline.named_steps["classifier"],
                      LogisticRegression | LinearSVC | SGDClassifier)


@dataclass
class Model:
    """What is saved: the fitted pipeline, exact training texts and the data-file entity terms."""

    fingerprint: str
    pipeline: Pipeline
    exact: dict[str, str]
    entity_terms: dict[str, dict[str, list[str]]]
    regexes: dict[str, list[str]]
    training_seconds: float
    patterns: Patterns = field(default_factory=Patterns)
    temperature: float = 1.0
    roles: dict[str, dict[str, str]] = field(default_factory=dict)
    grouped: set[str] = field(default_factory=set)
    kind: str = DEFAULT_KIND

    def probabilities(self, text: str) -> list[tuple[str, float]]:
        """Every intent with its probability, best first; none for an empty or content-free
        message (a bare phone or ID number asks for no action)."""
        inputs = features(text, self.patterns)
        cleaned = _text_part(inputs)
        if not cleaned or content_free(cleaned):
            return []
        if inputs in self.exact:
            return [(self.exact[inputs], 1.0)]
        if _scored(self.pipeline):
            # A message that only names a topic is read with a flatter softmax: unsure.
            flatter = _TOPIC_FLATTER if topic_only(cleaned) else 1.0
            z = self._scores(inputs) / (self.temperature * flatter)
            z = np.exp(z - z.max())
            probabilities = z / z.sum()
        else:
            probabilities = self.pipeline.predict_proba([inputs])[0]
        classes = self.pipeline.classes_
        return sorted(((str(c), round(float(p), 4)) for c, p in zip(classes, probabilities,
                                                                      strict=True)),
                      key=lambda pair: -pair[1])


    def _scores(self, inputs: str) -> Any:
        """The linear model's decision scores for one message, computed directly from the
        fitted vocabularies: TF-IDF (sublinear tf, idf, l2 per vectorizer) times the weights.
        Going through ``Pipeline`` and ``FeatureUnion`` costs ten times the arithmetic."""
        classifier = self.pipeline.named_steps["classifier"]
        columns: list[int] = []
        values: list[float] = []
        for analyzer, vocabulary, idf, offset in self._vectorizers():
            counts: dict[int, int] = {}
            for token in analyzer(inputs):
                index = vocabulary.get(token)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            if not counts:
                continue
            indices = np.fromiter(counts, dtype=np.int64, count=len(counts))
            weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64,
                                                 count=len(counts)))) * idf[indices]
            columns.extend((indices + offset).tolist())
            values.extend((weights / np.sqrt(weights @ weights)).tolist())
        scores = classifier.coef_[:, columns] @ np.asarray(values) + classifier.intercept_
        return scores if len(classifier.classes_) > 2 else np.array([-scores[0], scores[0]])

    def _vectorizers(self) -> list[tuple[Any, dict[str, int], Any, int]]:
        cached = self.__dict__.get("_vectorizer_cache")
        if cached is None:
            cached, offset = [], 0
            for _, vectorizer in self.pipeline.named_steps["features"].transformer_list:
                cached.append((vectorizer.build_analyzer(), vectorizer.vocabulary_,
                               vectorizer.idf_, offset))
                offset += len(vectorizer.vocabulary_)
            self.__dict__["_vectorizer_cache"] = cached
        return cached

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_vectorizer_cache", None)
        return state


def train(data: training.TrainingData, fingerprint: str = "", kind: str = DEFAULT_KIND,
          *, calibrate: bool = True) -> Model:
    """Fit the classifier on every example (seconds on two cores); raises
    ``training.DataError`` for data that cannot train one."""
    training.check_trainable(data, ", ".join(str(p) for p in data.files) or "training data")
    started = time.perf_counter()
    patterns = Patterns.from_data(data)
    inputs = [features(e.text, patterns) for e in data.examples]
    labels = [e.intent for e in data.examples]
    smallest = int(np.unique(labels, return_counts=True)[1].min())
    # Pinyin only for data with Chinese in it: enough that every cross-validation fold has some.
    chinese = sum(bool(_pinyin_ngrams(text)) for text in inputs)
    pipeline = _pipeline(kind, smallest, pinyin=chinese >= _MIN_CHINESE)
    pipeline.fit(inputs, labels)
    temperature = 1.0
    if calibrate and _scored(pipeline):
        temperature = _temperature(pipeline, inputs, labels)
    seen: dict[str, set[str]] = {}
    for text, label in zip(inputs, labels, strict=True):
        seen.setdefault(text, set()).add(label)
    exact = {text: next(iter(found)) for text, found in seen.items()
             if len(found) == 1 and _text_part(text)}
    return Model(fingerprint, pipeline, exact, data.entity_terms(), data.regexes,
                 time.perf_counter() - started, patterns, temperature, data.roles(),
                 data.grouped_entities(), kind)


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
        self._readings = lru_cache(maxsize=_READINGS_KEPT)(self._read_uncached)
        self._sources: tuple[object, ...] | None = None

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
        self._model = model

    def classify(self, text: str) -> list[tuple[str, float]]:
        """Every intent with its probability, best first."""
        model = self._model or self.load()
        return model.probabilities(text)

    def entities(self, text: str, today: date | None = None) -> list[Entity]:
        """Rule entities, then data-file terms where no rule entity of the same kind covers the
        span (the rules' values are normalised, so they win), with roles and groups."""
        model = self._model or self.load()
        found = extract_all(text, today)
        for matcher in self._matchers:
            for candidate in matcher.find(text, "lookup"):
                same = [e for e in found if e.entity == candidate.entity]
                if any(e.start < candidate.end and candidate.start < e.end
                       or e.value == candidate.value for e in same):
                    continue
                found.append(_with_role_and_group(candidate, text, model))
        return sorted(found, key=lambda e: (e.start, -e.end))

    def parse_sync(self, text: str, today: date | None = None) -> Parse:
        """The reading of ``text``; the same text on the same day reads the same (families
        repeat "菜单", "1", "谢谢"), so recent readings are kept while the model and the data
        files the entities come from (catalogue, service area) stay the same."""
        today = today or clock.today()
        sources = (self._model or self.load(), catalogue(), hospital_config().service_area)
        if self._sources is None or any(a is not b for a, b in zip(sources, self._sources, strict=True)):
            self._readings.cache_clear()
            self._sources = sources
        found = self._readings(text, today)
        return replace(found, entities=list(found.entities), ranking=list(found.ranking))

    def _read_uncached(self, text: str, today: date) -> Parse:
        ranking = self.classify(text)
        intent, confidence = ranking[0] if ranking else (None, 0.0)
        return Parse(text, intent, confidence, self.entities(text, today), ranking)

    async def parse(self, text: str) -> Parse:
        return self.parse_sync(text)


_ENUMERATION = re.compile(r"\band\b|\bthen\b|和|还有|另外|以及|再来|再要|[,，;；]")


def _with_role_and_group(entity: Entity, text: str, model: Model) -> Entity:
    """The role an entity had after the same word in training ("to" Berlin → to), and for
    entities annotated with groups, the number of the enumerated item it is in (1, 2, ...)."""
    role = model.roles.get(entity.entity, {}).get(training.cue_before(text, entity.start))
    group = None
    if entity.entity in model.grouped:
        group = str(len(_ENUMERATION.findall(text[:entity.start].lower())) + 1)
    if role is None and group is None:
        return entity
    return replace(entity, role=role, group=group)


def model_info(recognizer: EmbeddedRecognizer) -> dict[str, Any]:
    """Path, size and training time of the current model (for the CLI and the bench)."""
    model = recognizer.load()
    path = recognizer.model_path()
    return {"path": str(path), "bytes": path.stat().st_size if path.exists() else 0,
            "training_seconds": round(model.training_seconds, 3), "fingerprint": model.fingerprint}
