"""``jiahu nlu``: train the embedded model, parse a message, evaluate on a test file."""
from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from backend.settings import get_settings
from nlu import training
from nlu.embedded import EmbeddedRecognizer, model_info
from nlu.evaluation import evaluate

app = typer.Typer(help="Natural-language understanding: intents and entities.",
                  no_args_is_help=True)


_DATA = typer.Option(training.DATA_DIR, "--data", file_okay=False,
                     help="Rasa training data: a directory tree of .yml / .yaml files.")


def _recognizer(data: Path = training.DATA_DIR) -> EmbeddedRecognizer:
    return EmbeddedRecognizer(get_settings().data_dir / "nlu", data)


def _loaded(data: Path) -> EmbeddedRecognizer:
    """A trained recognizer, or exit 1 with the data problem (file and reason) on stderr."""
    recognizer = _recognizer(data)
    try:
        recognizer.load()
    except training.DataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    return recognizer


@app.command()
def train(data: Path = _DATA) -> None:
    """Train the embedded model from the Rasa data (nlu/data) and save it under DATA_DIR/nlu."""
    recognizer = _recognizer(data)
    started = time.perf_counter()
    try:
        notes = training.load(training.training_files(data)).notes
        recognizer.load(force_train=True)
    except training.DataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    info = model_info(recognizer)
    typer.echo(f"trained in {time.perf_counter() - started:.1f} s → {info['path']} "
               f"({info['bytes']} bytes)")


@app.command()
def parse(text: str, data: Path = _DATA) -> None:
    """Print the Rasa-shaped parse of TEXT (intent, entities, intent_ranking) as JSON."""
    result = _loaded(data).parse_sync(text)
    typer.echo(json.dumps(result.as_rasa(), ensure_ascii=False, indent=2))


@app.command("eval")
def eval_(path: Path = typer.Argument(..., exists=True,
                                     help="A Rasa NLU file or a directory tree of them."),
          as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
          data: Path = _DATA) -> None:
    """Evaluate intents on Rasa-format test data: accuracy, macro F1, the share right and
    confident enough to act on, per intent, confusions; exit 1 when PATH has no examples."""
    recognizer = _loaded(data)
    try:
        report = evaluate(recognizer, path)
    except training.DataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for note in report["skipped"]:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"{report['examples']} examples · accuracy {report['accuracy']:.3f} · "
               f"macro F1 {report['macro_f1']:.3f} · right and confident (≥ "
               f"{report['threshold']}) {report['confident_right']:.3f}")
    typer.echo(f"{'intent':<20} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}")
    for name, scores in report["per_intent"].items():
        typer.echo(f"{name:<20} {scores['precision']:>9.2f} {scores['recall']:>7.2f} "
                   f"{scores['f1']:>6.2f} {scores['support']:>4}")
    if report["confusions"]:
        typer.echo("confusions (intent → predicted):")
        for item in report["confusions"]:
            typer.echo(f"  {item['intent']} → {item['predicted']}: {item['count']}")
