"""The ``sentoffers`` command line."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from fastapi import FastAPI
from pydantic import ValidationError

from sentoffers.connector.cli import connector_app
from sentoffers.domain.model import Role
from sentoffers.observability.logs import configure_logging
from sentoffers.observability.metrics import MULTIPROCESS_DIR_VARIABLE
from sentoffers.server.app import build_app, open_database
from sentoffers.server.features.keys import NewKey, has_keys
from sentoffers.server.settings import Settings, is_loopback, warn_insecure_settings
from sentoffers.sql.db import Database

app = typer.Typer(
    help="sentoffers: Offer Management for marketplace connectors.", no_args_is_help=True
)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(connector_app, name="connector")

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
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as error:
        # One line per problem, named as the environment variable that holds it.
        for problem in error.errors():
            where = "_".join(str(part) for part in problem["loc"]).upper()
            message = str(problem["msg"]).removeprefix("Value error, ")
            typer.echo(f"error: SENTOFFERS_{where}: {message}" if where else f"error: {message}",
                       err=True)  # fmt: skip
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database_url: DatabaseUrl = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    log_level: Annotated[
        str | None,
        typer.Option(help="debug, info, warning, error; also SENTOFFERS_LOG_LEVEL (info)."),
    ] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Proxies (comma-separated addresses or networks, * for any) whose "
            "X-Forwarded-For and X-Forwarded-Proto are trusted; also "
            "SENTOFFERS_FORWARDED_ALLOW_IPS (default: loopback only)."
        ),
    ] = None,
) -> None:
    """Run the service: the web UI at /, the API at /api/sent-offers and its docs at /docs.

    Logs go to stderr as JSON lines (SENTOFFERS_LOG_FORMAT=text for text), one access line
    per request (SENTOFFERS_ACCESS_LOG=false to stop them); see docs/operations.md.
    """
    import uvicorn

    settings = _settings(database_url, log_level=log_level, forwarded_allow_ips=forwarded_allow_ips)
    configure_logging(settings.log_level, settings.log_format)
    warn_insecure_settings(settings, host)
    db = open_database(settings)  # migrate once, before any worker starts
    try:
        first_key = _first_run_key(db, settings, host)
        keyless = first_key is None and not has_keys(db)
    finally:
        db.dispose()
    if first_key is not None:
        typer.echo(
            "No API key existed, so a development admin key for every account was made:\n"
            f"  X-VTEX-API-AppKey: {first_key.app_key}\n"
            f"  X-VTEX-API-AppToken: {first_key.app_token}\n"
            "It is shown only now. Make others with `sentoffers keys create`."
        )
    elif keyless:
        typer.echo(
            "No API key exists yet. Make an admin key (its token is shown once) with:\n"
            "  sentoffers keys create --role admin --account <account>  "
            "(--account '*' for every account)"
        )
    typer.echo(
        f"sentoffers on http://{host}:{port} (web UI at /, API docs at /docs), "
        f"store {settings.database_url}"
    )
    # uvicorn's own loggers write through the format set above; its access log is off
    # (the service writes its own, with the route, the request id and the account).
    logs: dict[str, Any] = {
        "log_config": None,
        "log_level": settings.log_level,
        "access_log": False,
    }
    # Behind a TLS proxy in this list, request.url.scheme is https, so cookies are Secure.
    proxy: dict[str, Any] = {
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }
    if workers > 1:
        import os
        import shutil
        import tempfile

        # Each worker is a new process that reads its settings from the environment.
        os.environ["SENTOFFERS_DATABASE_URL"] = settings.database_url
        os.environ["SENTOFFERS_LOG_LEVEL"] = settings.log_level
        # The workers' metrics, added up by whichever worker answers /metrics.
        made = None
        if not os.environ.get(MULTIPROCESS_DIR_VARIABLE):
            made = tempfile.mkdtemp(prefix="sentoffers-metrics-")
            os.environ[MULTIPROCESS_DIR_VARIABLE] = made
        try:
            uvicorn.run(
                "sentoffers.cli:worker_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                **logs,
                **proxy,
            )
        finally:
            if made is not None:
                shutil.rmtree(made, ignore_errors=True)
        return
    uvicorn.run(build_app(settings), host=host, port=port, **logs, **proxy)


def worker_app() -> FastAPI:
    """The app of one of `serve --workers N`'s processes, logging as `serve` does."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return build_app(settings)


def _first_run_key(db: Database, settings: Settings, host: str) -> NewKey | None:
    """In development on this machine only, a store with no key gets one, so the docs can
    be tried at once; anywhere else, an admin key printed to a log is a key given away."""
    from sentoffers.server.features.keys import create_key

    if settings.environment != "development" or not is_loopback(host) or has_keys(db):
        return None
    return create_key(db, Role.ADMIN, ["*"], label="first run (development)")


@keys_app.command("create")
def keys_create(
    account: Annotated[
        list[str] | None,
        typer.Option(
            help="Account the key may touch (repeatable; '*' for every account, admin only). "
            "Needed by every role but platform; a platform key holds none."
        ),
    ] = None,
    role: Annotated[
        Role,
        typer.Option(
            help="admin, connector or viewer (of the accounts given), or platform: the "
            "operator's key, which changes error codes and channels and manages every key."
        ),
    ] = Role.CONNECTOR,
    label: Annotated[str | None, typer.Option(help="A note about who holds the key.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key and print {"appKey", "appToken"} as JSON; the token is shown once.

    The command line is the operator's: it makes keys of any role, platform included (the
    API makes platform keys only for another platform key).
    """
    from sentoffers.domain.errors import ServiceError
    from sentoffers.server.features.keys import create_key

    db = open_database(_settings(database_url))
    try:
        key = create_key(db, role, account or [], label=label)
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
    from sentoffers.domain.errors import ServiceError
    from sentoffers.server.features.keys import revoke_key

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


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Argument(help="What the migration does, in a few words.")],
    autogenerate: Annotated[
        bool, typer.Option(help="Write the operations the tables need (read them after).")
    ] = False,
) -> None:
    """Write the next schema migration under sentoffers/server/store/migrations/versions."""
    from sentoffers.server.store.migrate import revision

    path = revision(message, autogenerate=autogenerate)
    typer.echo(f"wrote {path}")


@app.command("close-idle")
def close_idle(database_url: DatabaseUrl = None) -> None:
    """Close interactions with no new log for longer than the idle timeout."""
    from sentoffers.server.features.interactions.idle import close_idle_interactions

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
    from sentoffers.server.features.retention import purge_expired

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


@app.command()
def sandbox(
    seed: Annotated[int, typer.Option(help="Catalog seed: the same seed, the same catalog.")] = 1,
    skus: Annotated[int, typer.Option(help="SKUs per account.", min=0)] = 100,
    flaw_rate: Annotated[
        float, typer.Option(help="Share of SKUs with a flaw (0 to 1).", min=0.0, max=1.0)
    ] = 0.2,
    account: Annotated[
        list[str] | None, typer.Option(help="Account to emulate (repeatable).")
    ] = None,
    affiliate_id: Annotated[str, typer.Option(help="The affiliate notified.")] = "SBX",
    sales_channel: Annotated[int, typer.Option(help="The affiliate's trade policy (sc).")] = 1,
    notify_url: Annotated[
        str | None,
        typer.Option(
            help="Affiliate endpoint for catalog notifications, e.g. "
            "http://127.0.0.1:9000/api/notification/."
        ),
    ] = None,
    initial_load: Annotated[
        bool, typer.Option(help="Notify every SKU once started (needs --notify-url).")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    platform_port: Annotated[int, typer.Option(help="VTEX platform port (0: a free one).")] = 0,
    marketplace_port: Annotated[int, typer.Option(help="Marketplace port (0: a free one).")] = 0,
    app_key: Annotated[str | None, typer.Option(help="VTEX AppKey (default: random).")] = None,
    app_token: Annotated[str | None, typer.Option(help="VTEX AppToken (default: random).")] = None,
    client_id: Annotated[str, typer.Option(help="Marketplace OAuth client id.")] = (
        "sandbox-connector"
    ),
    client_secret: Annotated[
        str | None, typer.Option(help="Marketplace OAuth client secret (default: random).")
    ] = None,
    rate_limit: Annotated[
        int, typer.Option(help="Marketplace requests per second per client (0: none).", min=0)
    ] = 20,
    failure_rate: Annotated[
        float,
        typer.Option(
            help="Share of marketplace requests failing with 5xx (nothing applied).", min=0, max=1
        ),
    ] = 0.0,
    lost_answer_rate: Annotated[
        float,
        typer.Option(
            help="Share of marketplace writes applied, then answered 5xx (a lost answer).",
            min=0,
            max=1,
        ),
    ] = 0.0,
    fault_seed: Annotated[
        int, typer.Option(help="Seed of the marketplace's failures: the same seed, the same run.")
    ] = 0,
    down_after: Annotated[
        float, typer.Option(help="Seconds from start until the marketplace goes down.", min=0)
    ] = 0.0,
    down_for: Annotated[
        float,
        typer.Option(help="Seconds the marketplace stays down (0: never down).", min=0),
    ] = 0.0,
    unique_skus: Annotated[
        bool,
        typer.Option(
            help="Refuse a second listing of a seller SKU (409); --no-unique-skus lets it in."
        ),
    ] = True,
    max_lot_size: Annotated[int, typer.Option(help="Items per marketplace lot.", min=1)] = 50,
    notification_concurrency: Annotated[
        int, typer.Option(help="Notifications in flight during an initial load.", min=1, max=256)
    ] = 32,
    token_ttl: Annotated[
        float, typer.Option(help="Seconds a marketplace token lasts.", min=1)
    ] = 3600.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print URLs and credentials as one JSON line.")
    ] = False,
) -> None:
    """Run an emulated VTEX platform and a sample marketplace until Ctrl-C (or SIGTERM).

    The marketplace's faults can also be switched while it runs: PUT /_sandbox/faults,
    POST /_sandbox/down {"seconds", "after"?}, POST /_sandbox/up (docs/sample-marketplace.md).
    """
    import signal
    import threading
    import time

    from sentoffers.sandbox import MarketplaceConfig, SandboxConfig, start_sandbox

    if initial_load and not notify_url:
        typer.echo("error: --initial-load needs --notify-url", err=True)
        raise typer.Exit(2)

    market = MarketplaceConfig(
        client_id=client_id,
        token_ttl_seconds=token_ttl,
        rate_limit_per_second=rate_limit or None,
        failure_rate=failure_rate,
        lost_answer_rate=lost_answer_rate,
        fault_seed=fault_seed,
        max_lot_size=max_lot_size,
        unique_skus=unique_skus,
        down_after_seconds=down_after,
        down_for_seconds=down_for,
    )
    if client_secret:
        market.client_secret = client_secret
    config = SandboxConfig(
        seed=seed,
        sku_count=skus,
        flaw_rate=flaw_rate,
        accounts=tuple(account or ["sandbox"]),
        affiliate_id=affiliate_id,
        sales_channel=sales_channel,
        notify_url=notify_url,
        notification_concurrency=notification_concurrency,
        marketplace=market,
        host=host,
        platform_port=platform_port,
        marketplace_port=marketplace_port,
    )
    if app_key:
        config.app_key = app_key
    if app_token:
        config.app_token = app_token
    try:
        running = start_sandbox(config)
    except (ValueError, OSError, RuntimeError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    try:
        if as_json:
            typer.echo(json.dumps(running.summary()))
        else:
            typer.echo(running.describe())
        if initial_load:
            for name in running.catalogs:
                started = time.perf_counter()
                deliveries = running.initial_load(name)
                delivered = sum(delivery.delivered for delivery in deliveries)
                typer.echo(
                    f"initial load of {name}: {delivered}/{len(deliveries)} delivered "
                    f"in {time.perf_counter() - started:.1f} s"
                )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.close()


@app.command()
def demo(
    skus: Annotated[int, typer.Option(help="SKUs in the sandbox's catalog.", min=1)] = 500,
    seed: Annotated[int, typer.Option(help="Catalog seed: the same seed, the same catalog.")] = 7,
    port: Annotated[
        int | None, typer.Option(help="The service's port (default 8000, or a free one).")
    ] = None,
    flaw_rate: Annotated[
        float, typer.Option(help="Share of SKUs with a flaw (0 to 1).", min=0.0, max=1.0)
    ] = 0.2,
    exit_when_done: Annotated[
        bool, typer.Option("--exit-when-done", help="Exit once every SKU has settled.")
    ] = False,
    data_dir: Annotated[
        str | None,
        typer.Option(
            "--data-dir",
            help="Where the demo writes everything: the service's store (sentoffers.db, "
            "unless --database-url), the connector's state and queue (connector*.db) and "
            "the service's log (service.log). Default: a new data/demo-<date>-<time>-<random> "
            "per run. One demo at a time may use a directory.",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="The service's store (default: sentoffers.db in the data directory), e.g. "
            "postgresql+psycopg://user:pass@host/db.",
        ),
    ] = None,
) -> None:
    """Start the service, the sandbox and the connector; load the catalog; show the UI.

    Demos run side by side from one checkout: each writes under its own data directory and
    takes free ports. Ctrl-C (SIGINT, to the process or its whole group) or SIGTERM stops
    the service, the sandbox and the connector.
    """
    from pathlib import Path

    from sentoffers.sandbox.demo import DemoOptions, run_demo

    options = DemoOptions(
        skus=skus, seed=seed, port=port, flaw_rate=flaw_rate, exit_when_done=exit_when_done,
        data_dir=Path(data_dir) if data_dir else None, database_url=database_url,
    )  # fmt: skip
    try:
        code = run_demo(options, echo=typer.echo)
    except (RuntimeError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


if __name__ == "__main__":  # pragma: no cover
    app()
