"""``jiahu nlu``: train the embedded model, parse a message, evaluate on a test file."""
from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from backend.settings import get_settings
from nlu.embedded import EmbeddedRecognizer, model_info
from nlu.evaluation import evaluate

app = typer.Typer(help="Natural-language understanding: intents and entities.",
                  no_args_is_help=True)


def _recognizer() -> EmbeddedRecognizer:
    return EmbeddedRecognizer(get_settings().data_dir / "nlu")


@app.command()
def train() -> None:
    """Train the embedded model from nlu/data/*.yml and save it under DATA_DIR/nlu."""
    recognizer = _recognizer()
    started = time.perf_counter()
    recognizer.load(force_train=True)
    info = model_info(recognizer)
    typer.echo(f"trained in {time.perf_counter() - started:.1f} s → {info['path']} "
               f"({info['bytes']} bytes)")


@app.command()
def parse(text: str) -> None:
    """Print the Rasa-shaped parse of TEXT (intent, entities, intent_ranking) as JSON."""
    result = _recognizer().parse_sync(text)
    typer.echo(json.dumps(result.as_rasa(), ensure_ascii=False, indent=2))


@app.command("eval")
def eval_(path: Path = typer.Argument(..., exists=True, dir_okay=False),
          as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Evaluate intents on a Rasa-format YAML file: accuracy, macro F1, per intent, confusions."""
    report = evaluate(_recognizer(), path)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{report['examples']} examples · accuracy {report['accuracy']:.3f} · "
               f"macro F1 {report['macro_f1']:.3f}")
    typer.echo(f"{'intent':<20} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}")
    for name, scores in report["per_intent"].items():
        typer.echo(f"{name:<20} {scores['precision']:>9.2f} {scores['recall']:>7.2f} "
                   f"{scores['f1']:>6.2f} {scores['support']:>4}")
    if report["confusions"]:
        typer.echo("confusions (intent → predicted):")
        for item in report["confusions"]:
            typer.echo(f"  {item['intent']} → {item['predicted']}: {item['count']}")
