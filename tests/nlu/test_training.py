"""Reading Rasa projects as Rasa does, on copies of Rasa's own example data (tests/nlu/rasa_data,
sources in its README). Expected counts were taken by hand with awk over the files' nlu
sections, exact repeats counted once as Rasa's TrainingData keeps them."""
from __future__ import annotations

from pathlib import Path

import pytest

from nlu import training
from nlu.embedded import EmbeddedRecognizer, train

RASA = Path(__file__).with_name("rasa_data") / "rasa" / "data"
DEMO = Path(__file__).with_name("rasa_data") / "rasa-demo" / "data"


@pytest.mark.parametrize(("source", "examples", "intents"), [
    (RASA / "examples" / "rasa", 46, 6),
    (RASA / "test" / "test_integration", 68, 7),
    (RASA / "test" / "demo-rasa-composite-entities.yml", 29, 4),
    (RASA / "test" / "demo-rasa-lookup-ents.yml", 15, 2),
    (DEMO, 4995, 67),
])
def test_example_counts_match_rasa(source: Path, examples: int, intents: int) -> None:
    data = training.load([source])
    assert (len(data.examples), len(data.intents())) == (examples, intents)


def test_non_nlu_files_are_skipped_with_a_note() -> None:
    data = training.load([DEMO])
    notes = "\n".join(data.notes)
    assert "responses.yml: responses, skipped" in notes and "rules.yml: rules, skipped" in notes
    assert "stories" in "\n".join(training.load([RASA / "test" / "test_integration"]).notes)


def test_lookups_anywhere_in_the_tree_and_regexes_as_features() -> None:
    data = training.load([DEMO])
    assert "products" in data.lookups and "zipcode" in data.regexes
    model = train(training.load([RASA / "examples" / "rasa"]))
    assert "zipcode" not in model.entity_terms


def test_roles_and_groups_are_kept_and_returned(tmp_path: Path) -> None:
    data = training.load([RASA / "test" / "demo-rasa-composite-entities.yml"])
    roles = {(a.entity, a.role) for e in data.examples for a in e.entities if a.role}
    assert roles == {("location", "from"), ("location", "to")}
    recognizer = EmbeddedRecognizer(tmp_path, RASA / "test" / "demo-rasa-composite-entities.yml")
    parse = recognizer.parse_sync("any flight from Madrid to London")
    assert {(e.value, e.role) for e in parse.entities} >= {("Madrid", "from"), ("London", "to")}
    pizza = recognizer.parse_sync("a large pizza with bacon and a small with olives")
    assert {(e.value, e.group) for e in pizza.entities} >= {("large", "1"), ("small", "2")}


def test_extended_examples_with_metadata(tmp_path: Path) -> None:
    (tmp_path / "nlu.yaml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  metadata: {sentiment: neutral}\n'
        "  examples:\n  - text: |\n      hi\n    metadata: {source: web}\n  - text: hello\n"
        "- intent: goodbye\n  examples: |\n    - bye\n", encoding="utf-8")
    data = training.load([tmp_path])
    assert [(e.text, e.metadata) for e in data.examples] == [
        ("hi", {"source": "web"}), ("hello", None), ("bye", None)]


def test_bad_data_names_the_file() -> None:
    with pytest.raises(training.DataError, match="incorrect_nlu_format.yml: nlu item 1"):
        training.load([RASA / "test"])
    with pytest.raises(training.DataError, match="lookup_table.yml: only one intent"):
        train(training.load([RASA / "test" / "lookup_tables"]))
    with pytest.raises(training.DataError, match="no NLU examples"):
        train(training.load([RASA / "test" / "synonyms_only.yml"]))
