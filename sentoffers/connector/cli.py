"""``sentoffers connector``: the affiliate endpoint, worker processes and dead letters.

- ``sentoffers connector``: the affiliate endpoint; it drains the queues too, unless
  ``--no-workers`` (then run workers beside it, on the same database);
- ``sentoffers connector worker --processes 2``: worker processes draining the queues of
  the work ledger in ``SENTOFFERS_CONNECTOR_DATABASE_URL`` (PostgreSQL when shared by
  processes on several machines), with ``SENTOFFERS_CONNECTOR_REDIS_URL`` for the rate
  limit and circuit breaker they share;
- ``sentoffers connector dead-letters list`` and ``... replay``: the work given up.

Settings come from ``SENTOFFERS_CONNECTOR_*`` variables (docs/connector-guide.md); the
options here override the commonest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import signal
from typing import Annotated, Any

import typer

__all__ = ["connector_app"]

connector_app = typer.Typer(
    help="The sample marketplace's connector: affiliate endpoint, workers, dead letters."
)
dead_letters_app = typer.Typer(help="Work given up after its retries.", no_args_is_help=True)
connector_app.add_typer(dead_letters_app, name="dead-letters")

ServiceUrl = Annotated[
    str | None, typer.Option(help="The sentoffers service (SENTOFFERS_CONNECTOR_SERVICE_URL).")
]
ConnectorDb = Annotated[
    str | None,
    typer.Option(
        help="The connector's own database, its work queues included (default "
        "sqlite:///data/connector.db; postgresql+psycopg://... shared by worker processes)."
    ),
]
RedisUrl = Annotated[
    str | None,
    typer.Option(
        help="Redis for the rate limit and circuit breaker shared by worker processes: "
        "redis://host:6379/0 (SENTOFFERS_CONNECTOR_REDIS_URL)."
    ),
]
LogLevel = Annotated[str, typer.Option(help="debug, info, warning, error.")]


def _settings(**overrides: Any) -> Any:
    from pydantic import ValidationError

    from sentoffers.connector.settings import ConnectorSettings

    values = {name: value for name, value in overrides.items() if value is not None}
    try:
        return ConnectorSettings(**values)
    except (ValueError, ValidationError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


def _logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


def _shown(database_url: str) -> str:
    """A database URL as printed: without its password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return database_url


@connector_app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address of the affiliate endpoint.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the affiliate endpoint.")] = 9000,
    service_url: ServiceUrl = None,
    database_url: ConnectorDb = None,
    redis_url: RedisUrl = None,
    workers: Annotated[
        int | None, typer.Option(help="Catalog jobs at once per store (default 64).")
    ] = None,
    in_process: Annotated[
        bool,
        typer.Option("--workers-in-process/--no-workers", help="Drain the queues here too."),
    ] = True,
    log_level: LogLevel = "info",
) -> None:
    """Run the connector: the affiliate endpoint /api/notification/ (and its workers)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from sentoffers.connector import Connector, create_app
    from sentoffers.connector.marketplace import load_adapter

    _logging(log_level)
    settings = _settings(
        service_url=service_url, database_url=database_url, redis_url=redis_url,
        workers=workers, workers_in_process=in_process,
    )  # fmt: skip
    try:
        running = Connector(settings, load_adapter(settings.adapter))
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    where = "drained here" if running.serve_queues else "drained by `sentoffers connector worker`"
    typer.echo(
        f"connector for {', '.join(running.stores)} on http://{host}:{port}/api/notification/ "
        f"(feed {running.feed_id}, service {settings.service_url}; queues in "
        f"{_shown(settings.database_url)}, {where})"
    )
    uvicorn.run(create_app(running), host=host, port=port, log_level=log_level, access_log=False)


def _work(overrides: dict[str, Any], log_level: str) -> None:
    """One worker process: drain the queues until SIGTERM or SIGINT."""
    from sentoffers.connector import Connector
    from sentoffers.connector.marketplace import load_adapter

    _logging(log_level)
    settings = _settings(**overrides)

    async def main() -> None:
        connector = Connector(settings, load_adapter(settings.adapter), serve_queues=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await connector.start()
        try:
            await stop.wait()
        finally:
            await connector.stop()

    asyncio.run(main())


@connector_app.command()
def worker(
    processes: Annotated[int, typer.Option(help="Worker processes to run.", min=1)] = 1,
    service_url: ServiceUrl = None,
    database_url: ConnectorDb = None,
    redis_url: RedisUrl = None,
    workers: Annotated[
        int | None, typer.Option(help="Catalog jobs at once per store and process.")
    ] = None,
    log_level: LogLevel = "info",
) -> None:
    """Drain the queues in worker processes (beside a `--no-workers` endpoint)."""
    overrides = {
        "service_url": service_url, "database_url": database_url, "redis_url": redis_url,
        "workers": workers, "workers_in_process": False,
    }  # fmt: skip
    settings = _settings(**overrides)
    typer.echo(f"{processes} worker process(es) on {_shown(settings.database_url)}")
    if processes == 1:
        _work(overrides, log_level)
        return
    spawn = multiprocessing.get_context("spawn")
    children = [
        spawn.Process(target=_work, args=(overrides, log_level), name=f"worker-{n}")
        for n in range(processes)
    ]
    for child in children:
        child.start()

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        child.join()


def _ledger(database_url: str | None) -> Any:
    from sentoffers.connector.ledger import WorkLedger
    from sentoffers.connector.store import StateStore

    settings = _settings(database_url=database_url, marketplace_client_secret="unused")
    return WorkLedger(StateStore(settings.database_url).db)


@dead_letters_app.command("list")
def list_dead_letters(
    account: Annotated[str | None, typer.Option(help="Only this store.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    database_url: ConnectorDb = None,
) -> None:
    """The SKUs whose work was given up, with the reason."""
    ledger = _ledger(database_url)
    try:
        found = ledger.dead_letters(account)
    finally:
        ledger.db.dispose()
    for dead in found:
        if as_json:
            row = {
                "account": dead.account, "skuId": dead.sku_id, "queue": dead.context,
                "attempts": dead.attempts, "since": dead.since.isoformat(),
                "changes": dead.flags, "reason": dead.reason,
            }  # fmt: skip
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            typer.echo(
                f"{dead.account}\t{dead.sku_id}\t{dead.context}\t{dead.attempts} attempts\t"
                f"{dead.since:%Y-%m-%d %H:%M:%S}\t{dead.reason}"
            )
    if not as_json:
        typer.echo(f"{len(found)} dead letter(s)", err=True)


@dead_letters_app.command("replay")
def replay_dead_letters(
    account: Annotated[str | None, typer.Option(help="Only this store.")] = None,
    sku: Annotated[str | None, typer.Option(help="Only this SKU.")] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Every dead letter (of --account, if given).")
    ] = False,
    database_url: ConnectorDb = None,
) -> None:
    """Put dead letters back in their queues (due now), their attempts counted from zero."""
    if sku is None and not everything:
        typer.echo("error: name a --sku, or replay them all with --all", err=True)
        raise typer.Exit(2)
    ledger = _ledger(database_url)
    try:
        routed = ledger.replay(account, sku)
    finally:
        ledger.db.dispose()
    typer.echo(f"{len(routed)} dead letter(s) queued again")
