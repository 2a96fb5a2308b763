"""``jiahu consent ...``: render a sample consent, verify a sealed one."""
from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Informed-consent PDFs: sample and verify.", no_args_is_help=True)


@app.command()
def sample(out: Path = typer.Option(..., "--out", help="Where to write the sealed PDF."),
           lang: str = typer.Option("zh", "--lang", help="zh or en."),
           pages: bool = typer.Option(False, "--pages", help="Also write page PNGs beside it.")
           ) -> None:
    """Render and seal a consent from invented sample data (a rare-character name included)."""
    from documents.pdf import render_and_seal
    from documents.sample import sample_context

    if lang not in ("zh", "en"):
        raise typer.BadParameter("choose zh or en", param_hint="--lang")
    sealed = render_and_seal(sample_context(lang), with_pages=pages)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(sealed.pdf)
    for number, png in enumerate(sealed.pages, start=1):
        out.with_name(f"{out.stem}-page{number}.png").write_bytes(png)
    seal = "development seal" if sealed.development_seal else "hospital seal"
    typer.echo(f"{out}: {len(sealed.pdf)} bytes, {seal}, sha256 {sealed.sha256}")


@app.command()
def verify(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Check the seal, that nothing changed since sealing, and the database record's SHA-256."""
    from documents.verify import verify_consent_pdf

    verdict = verify_consent_pdf(file.read_bytes())
    typer.echo(verdict.line())
    raise typer.Exit(0 if verdict.ok else 1)
