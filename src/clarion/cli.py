"""The ``clarion`` command: serve, worker, config, db, org, key, user, access-log."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import orjson
import typer
import uvicorn
import uvloop
from pydantic import ValidationError

from clarion.api.access_log import LogFormat, configure_logging
from clarion.api.timestamps import as_utc_bound
from clarion.auth import service as auth_service
from clarion.background import background_work
from clarion.call_reads import service as call_reads
from clarion.call_reads.repository import Wanted
from clarion.config import Settings, shown_settings
from clarion.database import Database, Unit
from clarion.database.checkpoints import CHECKPOINTS
from clarion.database.migrate import upgrade
from clarion.errors import DomainError
from clarion.people import service as people_service
from clarion.people.passwords import Passwords, checked_new_password, one_time_password
from clarion.people.roles import Role
from clarion.people.service import NewUser, normalized_email
from clarion.runtime.registry import Runtime
from clarion.storage.files import private_folder
from clarion.storage.secret_box import SecretBox, load_server_key
from clarion.webhooks.signing import load_signer

T = TypeVar("T")

app = typer.Typer(
    help="A self-hostable server for the Clarion voice-assistant API.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
user_app = typer.Typer(help="Console users.", no_args_is_help=True)
access_log_app = typer.Typer(help="Who read which call's conversation.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(key_app, name="key")
app.add_typer(user_app, name="user")
app.add_typer(access_log_app, name="access-log")


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        typer.echo(
            f"clarion: invalid setting: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}",
            err=True,
        )
        raise typer.Exit(2) from None


def _prepare(settings: Settings, *, migrate: bool) -> None:
    """Create the data directory and server key, and migrate when asked to."""
    private_folder(settings.data_dir)
    load_server_key(settings)
    load_signer(settings)  # creates the signing key once, before any server process starts
    if migrate:
        upgrade(settings.database)


def _print(value: Any) -> None:
    typer.echo(orjson.dumps(value, option=orjson.OPT_UTC_Z).decode())


def _run(work: Callable[..., T], *args: Any, write: bool = True) -> T:
    """Run a service function in one transaction (a write one unless ``write`` is False),
    turning domain errors into exit 1."""
    settings = _settings()
    _prepare(settings, migrate=settings.auto_migrate)
    database = Database(settings.database)
    try:
        with database.unit(write=write) as unit:
            return work(unit, *args)
    except DomainError as exc:
        typer.echo(f"clarion: {exc.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        database.dispose()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes sharing the port (one per core is typical)")
    ] = 1,
    log_format: Annotated[
        LogFormat | None, typer.Option(help="json or text (default: CLARION_LOG_FORMAT, json)")
    ] = None,
    worker: Annotated[
        bool, typer.Option(help="Deliver webhooks in the server (--no-worker: `clarion worker`)")
    ] = True,
) -> None:
    """Serve the API under /v1 (migrating the database first unless CLARION_AUTO_MIGRATE=false)."""
    # Server processes read their settings again from the environment.
    if log_format is not None:
        os.environ["CLARION_LOG_FORMAT"] = log_format
    if not worker:
        os.environ["CLARION_RUN_WORKER"] = "false"
    settings = _settings()
    _prepare(settings, migrate=settings.auto_migrate)
    configure_logging(settings.log_format)
    _say_where(settings, host, port)
    uvicorn.run(
        "clarion.app:create_server_app",
        factory=True,
        host=host,
        port=port,
        # Only a proxy the operator named may say who the client is and whether it used https.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        server_header=False,
        workers=workers,
        access_log=False,  # clarion.api.access_log writes one line per request instead
        log_config=None,
        # A web call's frame larger than a request body may be closes its socket with 1009.
        ws_max_size=settings.max_body_bytes,
    )


def _say_where(settings: Settings, host: str, port: int) -> None:
    """Where the server listens, where its data is, and what to do next, before it starts."""
    address = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    url = settings.database
    database = (
        f"SQLite {url.database}"
        if url.get_backend_name() == "sqlite"
        else url.render_as_string(hide_password=True)
    )
    typer.echo(f"clarion: serving the API at {address}/v1 (health: {address}/v1/health)", err=True)
    typer.echo(f"clarion: the console at {address}/, the API docs at {address}/docs", err=True)
    typer.echo(f"clarion: data in {settings.data_dir}; database {database}", err=True)
    typer.echo(
        'clarion: next, `clarion org create "Your Clinic"` prints an API key, and '
        "`clarion user create --org 1 --email you@clinic.example --role owner` lets you sign in "
        "to the console; `clarion config` shows every setting",
        err=True,
    )
    if settings.public_url and not settings.trusted_proxies:
        # Behind a proxy every request seems to come from it: one address for everyone's
        # sign-in lockout, and for the access log.
        typer.echo(
            "clarion: CLARION_PUBLIC_URL is set but CLARION_TRUSTED_PROXIES is not: if a "
            "reverse proxy is in front, name it there so clients' addresses are seen",
            err=True,
        )


@app.command("worker")
def run_worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Deliveries in flight at once (CLARION_WEBHOOK_CONCURRENCY)")
    ] = None,
) -> None:
    """Deliver webhooks until stopped (SIGINT or SIGTERM). Run any number of these."""
    if concurrency is not None:
        os.environ["CLARION_WEBHOOK_CONCURRENCY"] = str(concurrency)
    settings = _settings()
    _prepare(settings, migrate=settings.auto_migrate)
    configure_logging(settings.log_format)
    uvloop.run(_run_background(settings))  # the event loop uvicorn serves the API on, too


async def _run_background(settings: Settings) -> None:
    database = Database(settings.database)
    works = background_work(
        settings,
        database,
        load_signer(settings),
        SecretBox(load_server_key(settings)),
        asyncio.Event(),  # nothing in this process commits deliveries: the worker polls
    )
    runtime = Runtime()
    database.start_checkpoints(status=runtime.status(CHECKPOINTS))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stop.set)
    try:
        await runtime.run(works, stop)
    finally:
        await database.aclose()


@app.command("config")
def config() -> None:
    """Every setting: its CLARION_* variable, its current value (a secret only as set or not
    set) and what it is for."""
    for setting in shown_settings(_settings()):
        typer.echo(f"{setting.variable}={setting.value}")
        if setting.about:
            typer.echo(f"    {setting.about}")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply the migrations up to REVISION (default: the newest)."""
    settings = _settings()
    _prepare(settings, migrate=False)
    upgrade(settings.database, revision)
    typer.echo(f"database is at {revision}")


@org_app.command("create")
def org_create(name: str) -> None:
    """Create an organization and its first API key; prints them as JSON (the key only once)."""

    def work(unit: Unit) -> dict[str, Any]:
        organization_id, key = auth_service.create_organization(unit, name)
        return {
            "organization_id": organization_id,
            "name": name.strip(),
            "api_key": key.api_key,
            "key_id": key.key_id,
        }

    _print(_run(work))


@org_app.command("list")
def org_list() -> None:
    """List the organizations, with how many API keys each has in use."""
    _print(_run(auth_service.list_organizations))


@key_app.command("create")
def key_create(org: Annotated[int, typer.Option("--org", help="Organization id")]) -> None:
    """Create another API key for an organization; prints it as JSON (only this once)."""
    key = _run(auth_service.issue_key, org)
    _print({"key_id": key.key_id, "organization_id": key.organization_id, "api_key": key.api_key})


@key_app.command("revoke")
def key_revoke(key_id: int) -> None:
    """Revoke an API key: requests made with it fail from then on."""
    _print(_run(auth_service.revoke_key, key_id))


@key_app.command("list")
def key_list(org: Annotated[int, typer.Option("--org", help="Organization id")]) -> None:
    """List an organization's keys (prefixes only; keys are never shown again)."""
    _print(_run(auth_service.list_keys, org))


@user_app.command("create")
def user_create(
    org: Annotated[int, typer.Option("--org", help="Organization id")],
    email: Annotated[str, typer.Option(help="The person's email address: their sign-in")],
    role: Annotated[Role, typer.Option(help="viewer, editor or owner")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Take the password from standard input (no change asked)"
        ),
    ] = False,
) -> None:
    """Add a console user; prints them as JSON, with a one-time password (changed at first
    sign-in) unless --password-stdin gives theirs."""
    settings = _settings()
    address = _checked(normalized_email, email)
    if password_stdin:
        password = _checked(checked_new_password, sys.stdin.readline().rstrip("\r\n"))
    else:
        password = one_time_password()
    passwords = Passwords(settings.password_hash_memory_kib, settings.password_hash_iterations)
    user = NewUser(address, role, passwords.hash(password), must_change_password=not password_stdin)
    shown = _run(people_service.add_user, org, user)
    if not password_stdin:
        shown["password"] = password
    _print(shown)


@user_app.command("list")
def user_list(org: Annotated[int, typer.Option("--org", help="Organization id")]) -> None:
    """List an organization's console users."""
    _print(_run(people_service.list_users, org))


@user_app.command("disable")
def user_disable(
    user_id: int, org: Annotated[int, typer.Option("--org", help="Organization id")]
) -> None:
    """Disable a console user: their sessions end, they cannot sign in again, and the API keys
    they created are revoked."""
    _print(_run(people_service.disable_user, org, user_id, None))


@access_log_app.command("export")
def access_log_export(
    org: Annotated[int, typer.Option("--org", help="Organization id")],
    since: Annotated[
        str | None, typer.Option(help="Only reads at or after this ISO 8601 time")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only reads at or before this ISO 8601 time")
    ] = None,
) -> None:
    """Write an organization's access log to standard output, oldest first, one JSON object
    per line (call_id, actor_type, actor_id, at, address)."""
    wanted = Wanted(at_ge=_moment(since, "--since"), at_le=_moment(until, "--until"))

    def work(unit: Unit) -> int:
        count = 0
        for entry in call_reads.export(unit, org, wanted):
            typer.echo(orjson.dumps(entry, option=orjson.OPT_UTC_Z).decode())
            count += 1
        return count

    # A read: a server writing beside the export (on SQLite, one writer at a time) goes on.
    count = _run(work, write=False)
    typer.echo(f"clarion: {count} entries", err=True)


def _checked(check: Callable[[str], T], value: str) -> T:
    try:
        return check(value)
    except DomainError as exc:
        typer.echo(f"clarion: {exc.message}", err=True)
        raise typer.Exit(2) from None


def _moment(value: str | None, option: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        typer.echo(f"clarion: {option}: not an ISO 8601 time", err=True)
        raise typer.Exit(2) from None
    return as_utc_bound(moment)


def main() -> None:
    """Run the ``clarion`` command line."""
    app.info.epilog = _settings_epilog()
    app()


def _settings_epilog() -> str:
    """The settings and their current values, for ``--help`` (``clarion config`` says what
    each is for)."""
    try:
        shown = shown_settings(Settings())
    except ValidationError:
        return "Settings: a CLARION_* variable is invalid; `clarion config` says which."
    lines = [f"{setting.variable}={setting.value}" for setting in shown]
    # Rich's help joins lines of a paragraph: each setting is a paragraph of its own.
    return "Settings, as now set (`clarion config` says what each is for):\n\n" + "\n\n".join(lines)
