"""The ``jiahu`` command line: serve, chat, database."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from aiohttp import web

from backend.db import upgrade_sync
from backend.logs import configure_logging
from backend.settings import get_settings
from bot import telegram, wechat
from nlu import cli as nlu_cli

app = typer.Typer(help="家护 jiahu — home nursing intake service.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(wechat.cli, name="wechat")
app.add_typer(nlu_cli.app, name="nlu", help="Understanding free text: train, parse, evaluate.")
app.add_typer(telegram.cli, name="telegram")


@app.callback()
def _logging() -> None:
    """Logs go to stderr, so that commands printing JSON keep stdout clean."""
    configure_logging(get_settings().log_level)


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="Bind address (JIAHU_HOST).")] = None,
          port: Annotated[int | None, typer.Option(help="Port (JIAHU_PORT).")] = None) -> None:
    """Apply migrations and serve the webhooks, API and staff console."""
    from bot.app import create_app
    from bot.runtime import open_runtime

    settings = get_settings()
    configure_logging(settings.log_level)

    async def make() -> web.Application:
        return create_app(await open_runtime(settings))

    web.run_app(make(), host=host or settings.host, port=port or settings.port, print=None)


@app.command()
def chat(script: Annotated[Path | None, typer.Option(help="Replay one user message per line.")] = None,
         user: Annotated[str | None, typer.Option(help="Channel user id (default: terminal-<login>).")] = None,
         lang: Annotated[str | None, typer.Option(help="zh or en.")] = None) -> None:
    """Talk to the bot in this terminal; give a file's path to send that file."""
    from bot.runtime import open_runtime
    from bot.terminal import TerminalChannel

    settings = get_settings()
    configure_logging("WARNING")

    async def run() -> None:
        runtime = await open_runtime(settings)
        try:
            channel = TerminalChannel(runtime.engine, user_id=user, lang=lang,
                                      outbox=settings.data_dir / "outbox")
            if script is not None:
                await channel.replay(script.read_text("utf-8").splitlines())
            else:
                await channel.interactive()
        finally:
            await runtime.close()

    asyncio.run(run())


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply database migrations up to REVISION."""
    settings = get_settings()
    settings.ensure_secret_key()
    upgrade_sync(settings.resolved_database_url, revision)
    typer.echo(f"database at {revision}")


def main() -> None:  # pragma: no cover
    sys.exit(app())
