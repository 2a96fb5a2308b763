"""``jiahu nlu train | parse | eval`` through typer's test runner."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nlu import training
from nlu.cli import app

runner = CliRunner()


def test_train(jiahu_env: Path) -> None:
    result = runner.invoke(app, ["train"])
    assert result.exit_code == 0, result.output
    assert list((jiahu_env / "nlu").glob("model-*.joblib"))


def test_parse_prints_rasa_json() -> None:
    runner.invoke(app, ["train"])
    result = runner.invoke(app, ["parse", "外婆的胃管要换，下周三上午可以吗"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output[result.output.index("{"):])
    assert body["intent"]["name"] == "book_service"
    assert 0 < body["intent"]["confidence"] <= 1
    entities = {e["entity"]: e for e in body["entities"]}
    assert entities["service"]["value"] == "nasogastric_tube"
    assert entities["relation"]["value"] == "maternal_grandmother"
    assert entities["time"]["value"] == "morning"
    assert {"start", "end"} <= set(entities["date"])
    assert body["intent_ranking"][0]["name"] == "book_service"


def test_eval_json() -> None:
    runner.invoke(app, ["train"])
    result = runner.invoke(app, ["eval", str(training.TEST_FILE), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["accuracy"] >= 0.85 and report["macro_f1"] >= 0.85
    assert set(report["per_intent"]["greet"]) >= {"precision", "recall"}


def test_eval_table_and_missing_file(tmp_path: Path) -> None:
    runner.invoke(app, ["train"])
    small = tmp_path / "small.yml"
    small.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 你好\n'
                     "- intent: deny\n  examples: |\n    - 你好\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", str(small)])
    assert result.exit_code == 0, result.output
    assert "accuracy 0.500" in result.output and "deny → greet: 1" in result.output
    assert runner.invoke(app, ["eval", str(tmp_path / "missing.yml")]).exit_code != 0


def test_eval_json_reports_predictions_and_the_confident_share() -> None:
    runner.invoke(app, ["train"])
    result = runner.invoke(app, ["eval", str(training.HELD_OUT_FILE), "--json"])
    report = json.loads(result.output[result.output.index("{"):])
    assert report["threshold"] == 0.6 and report["accuracy"] >= 0.95
    assert report["confident_right"] >= 0.9
    assert set(report["predictions"][0]) == {"text", "intent", "predicted", "confidence"}
    table = runner.invoke(app, ["eval", str(training.HELD_OUT_FILE)])
    assert "right and confident (≥ 0.6)" in table.output


def test_eval_without_examples_fails_and_bad_data_is_named(tmp_path: Path) -> None:
    stories = tmp_path / "stories.yml"
    stories.write_text('version: "3.1"\nstories:\n- story: s\n  steps:\n  - intent: greet\n',
                       encoding="utf-8")
    runner.invoke(app, ["train"])
    result = runner.invoke(app, ["eval", str(stories)])
    assert result.exit_code == 1 and "no NLU examples" in result.output
    bad = runner.invoke(app, ["train", "--data", str(tmp_path)])
    assert bad.exit_code == 1 and "no NLU examples" in bad.output
