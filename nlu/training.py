"""Reading Rasa NLU training data the way Rasa does: a file or a directory tree of ``.yml`` and
``.yaml`` files, intents with examples (plain or the extended ``- text:`` form with
``metadata``), entity annotations with roles and groups, synonyms, lookup tables and regexes.

Files holding stories, rules, responses or a domain are skipped with a note; anything jiahu
cannot read raises ``DataError`` naming the file and the problem.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

DATA_DIR = Path(__file__).with_name("data")
TEST_FILE = Path(__file__).with_name("data_test") / "test.yml"
#: Written apart from the training data, never paraphrasing it (see README, "nlu/").
HELD_OUT_FILE = Path(__file__).with_name("data_test") / "held_out.yml"

# [text](entity) · [text](entity:value) · [text]{"entity": "service", "value": "wound_care"}
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")
_YAML_SUFFIXES = (".yml", ".yaml")
# Top-level keys of Rasa files that are not NLU data (core training data, domain, config).
_OTHER_KEYS = {"stories": "stories", "rules": "rules", "responses": "responses",
               "intents": "a domain", "slots": "a domain", "actions": "a domain",
               "forms": "a domain", "session_config": "a domain", "entities": "a domain",
               "pipeline": "a model configuration", "policies": "a model configuration"}


class DataError(ValueError):
    """Training or test data that cannot be used; the message names the file and the problem."""


class Annotation(NamedTuple):
    """An entity marked in an example, with Rasa's optional role and group."""

    start: int
    end: int
    entity: str
    value: str
    role: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Example:
    """One training message, annotations removed, with the entities it was marked with."""

    text: str
    intent: str
    entities: tuple[Annotation, ...] = ()
    metadata: Any = None


@dataclass
class TrainingData:
    """Everything read from one or more Rasa NLU files."""

    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # lower-cased term -> value
    lookups: dict[str, list[str]] = field(default_factory=dict)  # name -> terms
    regexes: dict[str, list[str]] = field(default_factory=dict)  # name -> patterns
    files: list[Path] = field(default_factory=list)  # files that held NLU data
    notes: list[str] = field(default_factory=list)  # files skipped, and why

    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})

    def entity_terms(self) -> dict[str, dict[str, list[str]]]:
        """Per entity, value -> surface terms: from annotations, lookups and synonyms."""
        terms: dict[str, dict[str, list[str]]] = {}

        def add(entity: str, term: str, value: str) -> None:
            terms.setdefault(entity, {}).setdefault(value, []).append(term)

        for example in self.examples:
            for a in example.entities:
                add(a.entity, example.text[a.start:a.end],
                    self.synonyms.get(a.value.lower(), a.value))
        for name, words in self.lookups.items():
            for word in words:
                add(name, word, self.synonyms.get(word.lower(), word))
        annotated = {value: entity for entity, table in terms.items() for value in table}
        for term, value in self.synonyms.items():
            if value in annotated:
                add(annotated[value], term, value)
        return terms

    def roles(self) -> dict[str, dict[str, str]]:
        """Per entity with roles, the word just before an annotation -> its role ("to" → to)."""
        found: dict[str, dict[str, str]] = {}
        for example in self.examples:
            for a in example.entities:
                if a.role:
                    cue = cue_before(example.text, a.start)
                    if cue:
                        found.setdefault(a.entity, {}).setdefault(cue, a.role)
        return found

    def grouped_entities(self) -> set[str]:
        """Entities annotated with groups (one group per item of an enumeration)."""
        return {a.entity for e in self.examples for a in e.entities if a.group}


def cue_before(text: str, start: int) -> str:
    """The word before a span: an ASCII word, or the two CJK characters before it."""
    before = text[:start].rstrip().lower()
    word = re.search(r"([a-z']+)$", before)
    if word:
        return word[1]
    return before[-2:] if before and not before[-1].isascii() else ""


def _strip_annotations(raw: str, path: Path) -> tuple[str, tuple[Annotation, ...]]:
    text: list[str] = []
    entities: list[Annotation] = []
    pos = out_len = 0
    for m in _ANNOTATION.finditer(raw):
        chunk = raw[pos:m.start()]
        text.append(chunk)
        out_len += len(chunk)
        surface = m["text"]
        role = group = None
        if m["json"]:
            try:
                spec = json.loads(m["json"])
                entity = str(spec["entity"])
            except (ValueError, KeyError, TypeError) as exc:
                raise DataError(f"{path}: the annotation {m[0]!r} in {raw!r} is not "
                                f'{{"entity": ..., "value": ...}} JSON ({exc})') from None
            value = str(spec.get("value", surface))
            role = str(spec["role"]) if spec.get("role") is not None else None
            group = str(spec["group"]) if spec.get("group") is not None else None
        else:
            entity, _, value = m["short"].partition(":")
            value = value or surface
        entities.append(Annotation(out_len, out_len + len(surface), entity, value, role, group))
        text.append(surface)
        out_len += len(surface)
        pos = m.end()
    text.append(raw[pos:])
    return "".join(text).strip(), tuple(entities)


def _items(block: Any, path: Path, where: str) -> list[tuple[str, Any]]:
    """The examples of one item: a ``|`` block of "- " lines, or a list of strings or of
    ``{text, metadata}`` mappings (Rasa's extended format)."""
    if block is None:
        return []
    if isinstance(block, str):
        return [(line.strip()[2:].strip(), None) for line in block.splitlines()
                if line.strip().startswith("- ")]
    if isinstance(block, list):
        found = []
        for entry in block:
            if isinstance(entry, dict):
                if "text" not in entry:
                    raise DataError(f"{path}: an example of {where} has no 'text': {entry!r}")
                found.append((str(entry["text"]).strip(), entry.get("metadata")))
            else:
                found.append((str(entry).strip(), None))
        return found
    raise DataError(f"{path}: the examples of {where} are neither a '|' block nor a list")


def read_file(path: Path, data: TrainingData) -> None:
    """Add one Rasa YAML file to ``data``; a file without an ``nlu`` key is noted and skipped."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DataError(f"{path}: not readable YAML ({str(exc).splitlines()[0]})") from None
    if document is None:
        data.notes.append(f"{path}: empty, skipped")
        return
    if not isinstance(document, dict):
        raise DataError(f"{path}: expected a mapping with an 'nlu' key, found "
                        f"{type(document).__name__}")
    if "nlu" not in document:
        kinds = sorted({kind for key, kind in _OTHER_KEYS.items() if key in document})
        what = " and ".join(kinds) if kinds else "no NLU data"
        data.notes.append(f"{path}: {what}, skipped")
        return
    items = document["nlu"] or []
    if not isinstance(items, list):
        raise DataError(f"{path}: 'nlu' must be a list of intents, synonyms, lookups, regexes")
    data.files.append(path)
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise DataError(f"{path}: nlu item {number} is not a mapping: {item!r}")
        examples = item.get("examples")
        if "intent" in item:
            where = f"intent {item['intent']!r}"
            for raw, metadata in _items(examples, path, where):
                text, entities = _strip_annotations(raw, path)
                if text:
                    data.examples.append(Example(text, str(item["intent"]).strip(), entities,
                                                 metadata))
        elif "synonym" in item:
            for term, _ in _items(examples, path, f"synonym {item['synonym']!r}"):
                data.synonyms[term.lower()] = str(item["synonym"])
        elif "lookup" in item:
            terms = [t for t, _ in _items(examples, path, f"lookup {item['lookup']!r}")]
            data.lookups.setdefault(str(item["lookup"]), []).extend(terms)
        elif "regex" in item:
            patterns = [p for p, _ in _items(examples, path, f"regex {item['regex']!r}")]
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise DataError(f"{path}: regex {item['regex']!r} has an invalid pattern "
                                    f"{pattern!r} ({exc})") from None
            data.regexes.setdefault(str(item["regex"]), []).extend(patterns)
        else:
            raise DataError(f"{path}: nlu item {number} is none of intent, synonym, lookup, "
                            f"regex: {item!r}")


def _deduplicated(examples: list[Example]) -> list[Example]:
    """Exact repeats (same text, intent and entities) once, as Rasa's ``TrainingData`` keeps them."""
    seen: dict[tuple[str, str, tuple[Annotation, ...]], Example] = {}
    for example in examples:
        seen.setdefault((example.text, example.intent, example.entities), example)
    return list(seen.values())


def yaml_files(source: Path) -> list[Path]:
    """``source`` itself, or every ``.yml``/``.yaml`` file in its tree (sorted, as Rasa does)."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise DataError(f"{source}: no such file or directory")
    return sorted(p for p in source.rglob("*") if p.suffix in _YAML_SUFFIXES and p.is_file())


def load(paths: Iterable[Path]) -> TrainingData:
    """Read Rasa NLU files and directory trees into one ``TrainingData``."""
    data = TrainingData()
    for source in paths:
        for path in yaml_files(source):
            read_file(path, data)
    data.examples = _deduplicated(data.examples)
    return data


def check_trainable(data: TrainingData, source: str) -> None:
    """Raise ``DataError`` unless ``data`` can train a classifier: at least two intents."""
    if not data.examples:
        skipped = f" ({'; '.join(data.notes)})" if data.notes else ""
        raise DataError(f"{source}: no NLU examples found{skipped}")
    intents = data.intents()
    if len(intents) < 2:
        files = ", ".join(str(p) for p in data.files)
        raise DataError(f"{files}: only one intent ({intents[0]!r}); a classifier needs "
                        "examples of at least two intents")


def training_files(directory: Path = DATA_DIR) -> list[Path]:
    """The training files: every ``.yml``/``.yaml`` in the data tree (never ``data_test``)."""
    return yaml_files(directory)


def fingerprint(paths: Iterable[Path], code_version: str) -> str:
    """A short hash of the training files' contents and the model code version."""
    digest = hashlib.sha256(code_version.encode())
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
