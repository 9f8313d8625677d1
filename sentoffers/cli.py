"""The ``sentoffers`` command line."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer

from sentoffers.bootstrap import build_app, open_database
from sentoffers.domain.model import Role
from sentoffers.keys.service import NewKey
from sentoffers.settings import Settings
from sentoffers.store.db import Database

app = typer.Typer(
    help="sentoffers: Offer Management for marketplace connectors.", no_args_is_help=True
)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///path.db (default sqlite:///data/sentoffers.db) or "
        "postgresql+psycopg://user:pass@host/db; also SENTOFFERS_DATABASE_URL.",
    ),
]


def _settings(database_url: str | None, **overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if database_url:
        values["database_url"] = database_url
    return Settings(**values)  # type: ignore[arg-type]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database_url: DatabaseUrl = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error.")] = "info",
) -> None:
    """Run the service: the API at /api/sent-offers and its docs at /docs."""
    import uvicorn

    settings = _settings(database_url)
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    db = open_database(settings)  # migrate once, before any worker starts
    try:
        first_key = _first_run_key(db, settings)
    finally:
        db.dispose()
    if first_key is not None:
        typer.echo(
            "No API key existed, so a development admin key for every account was made:\n"
            f"  X-VTEX-API-AppKey: {first_key.app_key}\n"
            f"  X-VTEX-API-AppToken: {first_key.app_token}\n"
            "It is shown only now. Make others with `sentoffers keys create`."
        )
    typer.echo(f"sentoffers on http://{host}:{port} (docs at /docs), store {settings.database_url}")
    if workers > 1:
        import os

        os.environ["SENTOFFERS_DATABASE_URL"] = settings.database_url
        uvicorn.run(
            "sentoffers.bootstrap:build_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            access_log=False,
        )
        return
    uvicorn.run(build_app(settings), host=host, port=port, log_level=log_level, access_log=False)


def _first_run_key(db: Database, settings: Settings) -> NewKey | None:
    """In development, a store with no key gets one, so the docs can be tried at once."""
    from sentoffers.keys.service import create_key, has_keys

    if settings.environment != "development" or has_keys(db):
        return None
    return create_key(db, Role.ADMIN, ["*"], label="first run (development)")


@keys_app.command("create")
def keys_create(
    account: Annotated[
        list[str],
        typer.Option(
            help="Account the key may touch (repeatable; '*' for every account, admin only)."
        ),
    ],
    role: Annotated[Role, typer.Option(help="admin, connector or viewer.")] = Role.CONNECTOR,
    label: Annotated[str | None, typer.Option(help="A note about who holds the key.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key and print {"appKey", "appToken"} as JSON; the token is shown once."""
    from sentoffers.errors import ServiceError
    from sentoffers.keys.service import create_key

    db = open_database(_settings(database_url))
    try:
        key = create_key(db, role, account, label=label)
    except ServiceError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    typer.echo(
        json.dumps(
            {
                "appKey": key.app_key,
                "appToken": key.app_token,
                "role": key.role.value,
                "accounts": list(key.accounts),
            }
        )
    )


@keys_app.command("revoke")
def keys_revoke(app_key: str, database_url: DatabaseUrl = None) -> None:
    """Revoke an API key."""
    from sentoffers.errors import ServiceError
    from sentoffers.keys.service import revoke_key

    db = open_database(_settings(database_url))
    try:
        revoke_key(db, app_key)
    except ServiceError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    typer.echo(f"revoked {app_key}")


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Bring the database to the latest schema (the service also does it at start)."""
    settings = _settings(database_url)
    open_database(settings).dispose()
    typer.echo(f"{settings.database_url} is at the latest schema")


@app.command("close-idle")
def close_idle(database_url: DatabaseUrl = None) -> None:
    """Close interactions with no new log for longer than the idle timeout."""
    from sentoffers.interactions.idle import close_idle_interactions

    settings = _settings(database_url)
    db = open_database(settings)
    try:
        closed = close_idle_interactions(db, settings.idle_timeout)
    finally:
        db.dispose()
    typer.echo(f"closed {closed} idle interaction(s)")


@app.command()
def purge(
    database_url: DatabaseUrl = None,
    retention_days: Annotated[
        float | None,
        typer.Option(
            help="Keep logs and closed interactions this many days (default 10; "
            "also SENTOFFERS_RETENTION_DAYS).",
        ),
    ] = None,
) -> None:
    """Delete logs and closed interactions older than the retention period, and stale
    idempotency keys."""
    from sentoffers.retention import purge_expired

    if retention_days is not None and retention_days <= 0:
        typer.echo("error: --retention-days must be more than 0", err=True)
        raise typer.Exit(2)
    settings = _settings(database_url, retention_days=retention_days)
    db = open_database(settings)
    try:
        report = purge_expired(
            db,
            settings.retention,
            chunk_rows=settings.purge_chunk_rows,
            idempotency_ttl=settings.idempotency_ttl,
        )
    finally:
        db.dispose()
    typer.echo(report.describe())


if __name__ == "__main__":  # pragma: no cover
    app()
