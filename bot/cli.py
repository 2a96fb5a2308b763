"""The ``jiahu`` command line: serve, chat, database."""
from __future__ import annotations

import asyncio
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import structlog
import typer
from aiohttp import web

from backend.db import upgrade_sync
from backend.logs import configure_logging
from backend.settings import get_settings
from bot import telegram, wechat
from documents import cli as consent_cli
from nlu import cli as nlu_cli

log = structlog.get_logger(__name__)
app = typer.Typer(help="家护 jiahu — home nursing intake service.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(wechat.cli, name="wechat")
app.add_typer(nlu_cli.app, name="nlu", help="Understanding free text: train, parse, evaluate.")
app.add_typer(consent_cli.app, name="consent", help="The informed-consent PDF: sample, verify.")
app.add_typer(telegram.cli, name="telegram")


@app.callback()
def _logging() -> None:
    """Logs go to stderr, so that commands printing JSON keep stdout clean."""
    configure_logging(get_settings().log_level)


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="Bind address (JIAHU_HOST).")] = None,
          port: Annotated[int | None, typer.Option(help="Port (JIAHU_PORT).")] = None) -> None:
    """Apply migrations and serve the webhooks, API and staff console."""
    from bot.access_log import AccessLog
    from bot.app import create_app
    from bot.runtime import open_runtime, settle_heap
    from documents.fonts import fast_subsetting_available, require_fast_subsetting

    settings = get_settings()
    configure_logging(settings.log_level)
    if settings.require_fast_pdf:
        try:
            require_fast_subsetting()
        except RuntimeError as error:
            typer.echo(f"error: {error}\n(set JIAHU_REQUIRE_FAST_PDF=false to start anyway, slowly)", err=True)
            raise typer.Exit(1) from None
    elif not fast_subsetting_available():
        log.warning("pdf.slow_path", hint="apt-get install libharfbuzz-subset0: consents take ~9 s each")

    async def make() -> web.Application:
        runtime = await open_runtime(settings)
        settle_heap()
        return create_app(runtime, background=True)

    web.run_app(make(), host=host or settings.host, port=port or settings.port, print=None,
                access_log_class=AccessLog, loop=_event_loop())


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where it is installed (libuv's transports: the HTTP side of a message
    costs less), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


@app.command()
def chat(script: Annotated[Path | None, typer.Option(help="Replay one user message per line.")] = None,
         user: Annotated[str | None, typer.Option(help="Channel user id (default: terminal-<login>).")] = None,
         lang: Annotated[str | None, typer.Option(help="zh or en.")] = None) -> None:
    """Talk to the bot in this terminal; give a file's path to send that file."""
    from bot.notifier import deliver_notifications
    from bot.runtime import open_runtime
    from bot.terminal import TerminalChannel

    settings = get_settings()
    configure_logging("WARNING")

    async def run() -> None:
        runtime = await open_runtime(settings)
        try:
            base = settings.public_url or f"http://{settings.host}:{settings.port}"
            channel = TerminalChannel(runtime.engine, runtime.sessions, user_id=user, lang=lang,
                                      base_url=base)
            runtime.senders[channel.name] = channel.deliver
            channel.after_turn = lambda: deliver_notifications(runtime)
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


staff_app = typer.Typer(help="Staff accounts and API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")
app.add_typer(audit_app, name="audit")


def _with_session(work):  # type: ignore[no-untyped-def]
    """Run ``work(session)`` in one transaction on the configured, migrated database."""
    from backend.db import make_engine, make_sessionmaker, transaction

    settings = get_settings()
    settings.ensure_secret_key()
    upgrade_sync(settings.resolved_database_url)

    async def run():  # type: ignore[no-untyped-def]
        engine = make_engine(settings.resolved_database_url)
        try:
            async with transaction(make_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@staff_app.command("add")
def staff_add(username: str,
              role: Annotated[str, typer.Option(help="hotline, nurse_manager or admin.")],
              name: Annotated[str | None, typer.Option(help="Display name.")] = None,
              password: Annotated[str | None, typer.Option(
                  help="Leave out to be asked; '-' generates one and prints it once.")] = None) -> None:
    """Create a staff account for the console."""
    from backend.staff import ROLES, create_staff

    if role not in ROLES:
        typer.echo(f"error: role must be one of {', '.join(ROLES)}", err=True)
        raise typer.Exit(2)
    secret, generated = _password(password)
    try:
        _with_session(lambda s: create_staff(s, username, name or username, role, secret))
    except Exception as error:  # noqa: BLE001 - e.g. the username exists
        typer.echo(f"error: could not create {username}: {error.__class__.__name__}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"staff account {username} ({role}) created")
    if generated:
        typer.echo(f"password (shown once): {secret}")


@staff_app.command("token")
def staff_token(name: str, scope: Annotated[list[str], typer.Option(help="Repeat for each scope.")]) -> None:
    """Create a scoped API bearer token (printed once)."""
    from backend.staff import create_token

    try:
        _, secret = _with_session(lambda s: create_token(s, name, scope, actor="cli"))
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(secret)


def _password(password: str | None) -> tuple[str, bool]:
    """The password given, asked for, or generated ('-'); at least 10 characters."""
    import secrets

    generated = password == "-"
    if generated:
        password = secrets.token_urlsafe(12)
    elif password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        typer.echo("error: a password needs at least 10 characters", err=True)
        raise typer.Exit(2)
    return password, generated


def _or_unknown(work):  # type: ignore[no-untyped-def]
    """Run ``work`` in a session; an unknown account or token is a clear error, exit 1."""
    from backend.staff import UnknownAccount

    try:
        return _with_session(work)
    except UnknownAccount as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@staff_app.command("list")
def staff_list() -> None:
    """Staff accounts: username, role, display name, active or disabled, last login."""
    from backend.staff import list_staff

    accounts = _with_session(list_staff)
    if not accounts:
        typer.echo("no staff accounts yet (jiahu staff add NAME --role ROLE)")
    for account in accounts:
        last = account.last_login_at.isoformat(timespec="minutes") if account.last_login_at else "never"
        state = "active" if account.active else "disabled"
        typer.echo(f"{account.username}\t{account.role}\t{account.display_name}\t{state}\tlast login {last}")


@staff_app.command("disable")
def staff_disable(username: str) -> None:
    """Disable an account: it can no longer log in and its open sessions end."""
    from backend.staff import set_active

    _or_unknown(lambda s: set_active(s, username, False))
    typer.echo(f"staff account {username} disabled; its sessions are ended")


@staff_app.command("enable")
def staff_enable(username: str) -> None:
    """Enable a disabled account again."""
    from backend.staff import set_active

    _or_unknown(lambda s: set_active(s, username, True))
    typer.echo(f"staff account {username} enabled")


@staff_app.command("reset-password")
def staff_reset_password(username: str, password: Annotated[str | None, typer.Option(
        help="Leave out to be asked; '-' generates one and prints it once.")] = None) -> None:
    """Set a new password; failed logins are forgotten and open sessions end."""
    from backend.staff import reset_password

    secret, generated = _password(password)
    _or_unknown(lambda s: reset_password(s, username, secret))
    typer.echo(f"password of {username} reset; its sessions are ended")
    if generated:
        typer.echo(f"password (shown once): {secret}")


token_app = typer.Typer(help="API bearer tokens (create one with `jiahu staff token`).", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("list")
def token_list() -> None:
    """Tokens: number, name, scopes, created, last used, revoked (never the secret)."""
    from backend.staff import list_tokens

    tokens = _with_session(list_tokens)
    if not tokens:
        typer.echo("no API tokens yet (jiahu staff token NAME --scope …)")
    for token in tokens:
        used = token.last_used_at.isoformat(timespec="minutes") if token.last_used_at else "never used"
        state = f"revoked {token.revoked_at.isoformat(timespec='minutes')}" if token.revoked_at else "active"
        typer.echo(f"{token.id}\t{token.name}\t{','.join(token.scopes)}\t"
                   f"created {token.created_at.isoformat(timespec='minutes')}\t{used}\t{state}")


@token_app.command("revoke")
def token_revoke(number: Annotated[int, typer.Argument(help="The token's number from `jiahu token list`.")]) -> None:
    """Revoke a token: every request with it is refused from now on."""
    from backend.staff import revoke_token

    token = _or_unknown(lambda s: revoke_token(s, number))
    typer.echo(f"token {number} ({token.name}) revoked")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's keyed hash chain and its anchor; exit 1 when an entry was changed
    or removed (the newest ones and all of them included)."""
    from backend.audit import verify

    verdict = _with_session(verify)
    if verdict.ok:
        typer.echo(f"audit log intact: {verdict.entries} entries" +
                   (f" (head {verdict.head})" if verdict.head else ""))
    else:
        typer.echo(f"audit log BROKEN: {verdict.problem}")
        raise typer.Exit(1)


export_app = typer.Typer(help="Standard exports for the hospital: FHIR, CSV.", no_args_is_help=True)
app.add_typer(export_app, name="export")
FullIdentifiers = Annotated[bool, typer.Option(
    "--full-identifiers", help="Names, ID numbers, phones and addresses in full (recorded as such).")]
Output = Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")]


def _cli_actor() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


def _emit(text: str, out: Path | None, *, encoding: str = "utf-8") -> None:
    if out is None:
        typer.echo(text.removeprefix("\ufeff"), nl=not text.endswith("\n"))
    else:
        out.write_text(text, encoding)
        typer.echo(f"{out}: written", err=True)


@export_app.command("fhir")
def export_fhir(number: str, full_identifiers: FullIdentifiers = False, out: Output = None) -> None:
    """Print booking NUMBER as a FHIR R4 Bundle (JSON); ID numbers and phones masked by default."""
    import json

    from backend.exports.fhir_bundle import NotFound, booking_bundle, bundle_json

    async def work(session):  # type: ignore[no-untyped-def]
        return bundle_json(await booking_bundle(session, number, _cli_actor(),
                                                full_identifiers=full_identifiers))

    try:
        text = _with_session(work)
    except NotFound:
        typer.echo(f"error: no booking {number}", err=True)
        raise typer.Exit(1) from None
    _emit(json.dumps(json.loads(text), ensure_ascii=False, indent=2) + "\n", out)


def _range(since: str | None, until: str | None) -> tuple[date, date]:
    from backend import clock
    from backend.exports.csv_reports import BadRange, check_range

    try:
        last = date.fromisoformat(until) if until else clock.today()
        first = date.fromisoformat(since) if since else last - timedelta(days=30)
        check_range(first, last)
    except (ValueError, BadRange) as error:
        raise typer.BadParameter(str(error)) from None
    return first, last


Since = Annotated[str | None, typer.Option(help="First visit date, YYYY-MM-DD (default: 30 days before --until).")]
Until = Annotated[str | None, typer.Option(help="Last visit date, YYYY-MM-DD (default: today).")]


@export_app.command("bookings")
def export_bookings(since: Since = None, until: Until = None, full_identifiers: FullIdentifiers = False,
                    out: Output = None) -> None:
    """Bookings with a visit date in the range as CSV; personal data masked by default."""
    from backend.exports.csv_reports import bookings_csv

    first, last = _range(since, until)
    _emit(_with_session(lambda s: bookings_csv(s, first, last, _cli_actor(),
                                               full_identifiers=full_identifiers)), out)


@export_app.command("stats")
def export_stats(since: Since = None, until: Until = None, out: Output = None) -> None:
    """The workload statistics of the visits in the range as CSV, one figure a row."""
    from backend.exports.csv_reports import stats_csv

    first, last = _range(since, until)
    _emit(_with_session(lambda s: stats_csv(s, first, last, _cli_actor())), out)


def main() -> None:  # pragma: no cover
    sys.exit(app())
