"""Reading Rasa NLU training data (``version: "3.1"``): intents with examples, entity
annotations, synonyms, lookup tables and regexes.

Only the subset jiahu writes is understood; the files stay loadable by a real Rasa server.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).with_name("data")
TEST_FILE = Path(__file__).with_name("data_test") / "test.yml"

# [text](entity) · [text](entity:value) · [text]{"entity": "service", "value": "wound_care"}
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True)
class Example:
    """One training message, annotations removed, with the entities it was marked with."""

    text: str
    intent: str
    entities: tuple[tuple[int, int, str, str], ...] = ()  # start, end, entity, value


@dataclass
class TrainingData:
    """Everything read from one or more Rasa NLU files."""

    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # lower-cased term -> value
    lookups: dict[str, list[str]] = field(default_factory=dict)  # entity -> terms
    regexes: dict[str, list[str]] = field(default_factory=dict)  # entity -> patterns

    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})

    def entity_terms(self) -> dict[str, dict[str, list[str]]]:
        """Per entity, value -> surface terms: from annotations, lookups and synonyms."""
        terms: dict[str, dict[str, list[str]]] = {}

        def add(entity: str, term: str, value: str) -> None:
            terms.setdefault(entity, {}).setdefault(value, []).append(term)

        for example in self.examples:
            for start, end, entity, value in example.entities:
                add(entity, example.text[start:end], self.synonyms.get(value.lower(), value))
        for entity, words in self.lookups.items():
            for word in words:
                add(entity, word, self.synonyms.get(word.lower(), word))
        annotated = {value: entity for entity, table in terms.items() for value in table}
        for term, value in self.synonyms.items():
            if value in annotated:
                add(annotated[value], term, value)
        return terms


def _strip_annotations(raw: str) -> tuple[str, tuple[tuple[int, int, str, str], ...]]:
    text, entities, pos = [], [], 0
    out_len = 0
    for m in _ANNOTATION.finditer(raw):
        chunk = raw[pos:m.start()]
        text.append(chunk)
        out_len += len(chunk)
        surface = m["text"]
        if m["json"]:
            spec = json.loads(m["json"])
            entity, value = spec["entity"], str(spec.get("value", surface))
        else:
            entity, _, value = m["short"].partition(":")
            value = value or surface
        entities.append((out_len, out_len + len(surface), entity, value))
        text.append(surface)
        out_len += len(surface)
        pos = m.end()
    text.append(raw[pos:])
    return "".join(text), tuple(entities)


def _items(block: str | list[str] | None) -> list[str]:
    if block is None:
        return []
    if isinstance(block, list):
        return [str(item).strip() for item in block]
    return [line.strip()[2:].strip() for line in block.splitlines()
            if line.strip().startswith("- ")]


def load(paths: Iterable[Path]) -> TrainingData:
    """Read Rasa NLU YAML files into one ``TrainingData``."""
    data = TrainingData()
    for path in paths:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in document.get("nlu", []) or []:
            if "intent" in item:
                for raw in _items(item.get("examples")):
                    text, entities = _strip_annotations(raw)
                    data.examples.append(Example(text, item["intent"], entities))
            elif "synonym" in item:
                for term in _items(item.get("examples")):
                    data.synonyms[term.lower()] = str(item["synonym"])
            elif "lookup" in item:
                data.lookups.setdefault(item["lookup"], []).extend(_items(item.get("examples")))
            elif "regex" in item:
                data.regexes.setdefault(item["regex"], []).extend(_items(item.get("examples")))
    return data


def training_files(directory: Path = DATA_DIR) -> list[Path]:
    """The training files: ``*.yml`` directly in the data directory (never ``data_test``)."""
    return sorted(directory.glob("*.yml"))


def fingerprint(paths: Iterable[Path], code_version: str) -> str:
    """A short hash of the training files' contents and the model code version."""
    digest = hashlib.sha256(code_version.encode())
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
