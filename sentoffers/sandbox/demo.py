"""``sentoffers demo``: the service, the sandbox and the connector, on one machine, at once.

1. The service (``sentoffers serve``, a child process) on the embedded SQLite store, with a
   connector key and a viewer key made for the demo's account; it shows the sandbox's
   images (served over plain http: the demo adds the sandbox's origin to the service's
   ``SENTOFFERS_UI_IMAGE_ORIGINS``).
2. The sandbox (a VTEX platform with a flawed catalog, and the sample marketplace) and the
   connector serving its notifications, in this process, on free loopback ports.
3. The initial load: every SKU notified by the sandbox's broadcaster, followed on a progress
   bar until each has reached a final state in the connector; then the counts per status as
   the service shows them, and the address of the UI with the key to sign in with.

Everything it writes (the service's store, the connector's state and queue, the service's
log) goes under one data directory, by default a new one per run
(``data/demo-<date>-<time>-<random>``), so demos run side by side from one checkout; a
directory given with ``--data-dir`` is held by one demo at a time.

It keeps running (price or stock changes made in the sandbox flow through) until Ctrl-C
(SIGINT, to the process or its whole group) or SIGTERM, or exits once done with
``--exit-when-done``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sentoffers.client import SentOffersClient, SentOffersCredentials
from sentoffers.connector.decisions import money
from sentoffers.connector.model import SkuRecord, SkuState
from sentoffers.domain.model import Role
from sentoffers.sandbox import MarketplaceConfig, SandboxConfig
from sentoffers.sandbox.local_connector import LocalConnector
from sentoffers.server.app import open_database
from sentoffers.server.features.keys import NewKey, create_key
from sentoffers.server.settings import Settings
from sentoffers.server.web.ui.views import offer_url

__all__ = ["DemoOptions", "claim_data_dir", "end_process", "new_data_dir", "run_demo"]

ACCOUNT = "sandbox"
HOST = "127.0.0.1"
DEFAULT_PORT = 8000
START_TIMEOUT_S = 60.0
DATA_ROOT = Path("data")
# What a demo writes in its data directory, and the lock keeping it to one demo at a time.
SERVICE_DB = "sentoffers.db"
CONNECTOR_DB = "connector.db"  # its state and its work ledger, which holds the queues
SERVICE_LOG = "service.log"
LOCK = "demo.lock"
IMAGE_ORIGINS_VARIABLE = "SENTOFFERS_UI_IMAGE_ORIGINS"


@dataclass(frozen=True, slots=True)
class DemoOptions:
    skus: int = 500
    seed: int = 7
    port: int | None = None
    """The service's port; ``None``: 8000, or a free one if 8000 is taken."""
    flaw_rate: float = 0.2
    exit_when_done: bool = False
    data_dir: Path | None = None
    """Where everything the demo writes goes; ``None``: a new directory (``new_data_dir``)."""
    database_url: str | None = None
    """The service's store; ``None``: ``sentoffers.db`` in the data directory."""
    rate_limit: int | None = None
    """The marketplace's requests per second; ``None``: the sandbox's default (20)."""
    timeout_seconds: float | None = None


def new_data_dir(root: Path = DATA_ROOT) -> Path:
    """A new directory no other run has: ``data/demo-20260131-142501-k3j2a9xq``."""
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"demo-{time.strftime('%Y%m%d-%H%M%S')}-", dir=root))


@contextlib.contextmanager
def claim_data_dir(path: Path) -> Iterator[Path]:
    """Hold ``path`` for this run (an exclusive lock, let go on exit, even on a crash);
    ``RuntimeError`` while another demo holds it."""
    path.mkdir(parents=True, exist_ok=True)
    with (path / LOCK).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(
                f"another demo is running in {path}; give another --data-dir, or none "
                "(each run then gets a new one)"
            ) from None
        yield path


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """SIGINT (Ctrl-C) and SIGTERM raise ``KeyboardInterrupt`` in the main thread, once:
    later ones are ignored while the demo stops its parts (each within a bounded time).

    SIGINT is taken explicitly: a process started without a terminal (a background job,
    ``setsid``) may inherit it ignored, and would then never stop on ``kill -INT``.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopping = (signal.SIGINT, signal.SIGTERM)

    def interrupt(_signal: int, _frame: FrameType | None) -> None:
        for number in stopping:
            signal.signal(number, signal.SIG_IGN)
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, interrupt) for number in stopping}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _choose_port(wanted: int | None) -> int:
    if wanted is not None:
        if wanted and not _port_free(wanted):
            raise RuntimeError(f"port {wanted} is taken; choose another with --port")
        return wanted or _free_port()
    return DEFAULT_PORT if _port_free(DEFAULT_PORT) else _free_port()


class Service:
    """``sentoffers serve`` in a child process, logging to a file."""

    def __init__(self, database_url: str, port: int, log_path: Path, image_origin: str):
        self.url = f"http://{HOST}:{port}"
        self.log_path = log_path
        self._log = log_path.open("ab")
        command = [
            sys.executable, "-m", "sentoffers", "serve", "--host", HOST, "--port", str(port),
            "--database-url", database_url, "--log-level", "warning",
        ]  # fmt: skip
        origins = f"{os.environ.get(IMAGE_ORIGINS_VARIABLE, '')} {image_origin}".strip()
        env = {**os.environ, IMAGE_ORIGINS_VARIABLE: origins}
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=env
        )

    def wait_healthy(self, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the service exited; see {self.log_path}")
                try:
                    if http.get(f"{self.url}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"the service did not start within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        end_process(self.process)
        self._log.close()


class SettledSkus:
    """The SKUs that reached a final state, counted once each (told from the workers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._skus: set[str] = set()

    def __call__(self, record: SkuRecord) -> None:
        with self._lock:
            self._skus.add(record.sku_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._skus)


def _keys(settings: Settings) -> tuple[NewKey, NewKey]:
    db = open_database(settings)
    try:
        connector = create_key(db, Role.CONNECTOR, [ACCOUNT], label="sentoffers demo connector")
        viewer = create_key(db, Role.VIEWER, [ACCOUNT], label="sentoffers demo viewer")
    finally:
        db.dispose()
    return connector, viewer


def _follow(total: int, settled: SettledSkus, deadline: float, console: Console) -> None:
    columns = (
        TextColumn("[bold]SKUs"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    started = time.monotonic()
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("load", total=total, rate="")
        while time.monotonic() < deadline:
            done = len(settled)
            elapsed = max(time.monotonic() - started, 1e-6)
            progress.update(task, completed=done, rate=f"{done / elapsed:5.1f} SKUs/s")
            if done >= total:
                return
            time.sleep(0.1)


def _service_counts(url: str, key: NewKey, feed_id: str) -> dict[str, int]:
    credentials = SentOffersCredentials(app_key=key.app_key, app_token=key.app_token)
    with SentOffersClient(url, credentials=credentials) as client:
        page = client.list_offers(ACCOUNT, channel=feed_id, from_=0, to=0).raise_for_errors()
    return page.counts.model_dump()


def run_demo(options: DemoOptions, echo: Callable[[str], None] = print) -> int:
    """Run the demo; returns the exit code: 0 when stopped once the load is done, 1 when SKUs
    did not all settle in time, 130 when interrupted before."""
    path = options.data_dir or new_data_dir()
    with _stopped_by_signals(), claim_data_dir(path) as data:
        try:
            return _run(options, data, echo)
        except KeyboardInterrupt:
            echo("interrupted: the connector, the sandbox and the service are stopped")
            return 130


def _run(options: DemoOptions, data: Path, echo: Callable[[str], None]) -> int:
    console = Console(stderr=False)
    database_url = options.database_url or f"sqlite:///{data / SERVICE_DB}"
    settings = Settings(database_url=database_url)
    port = _choose_port(options.port)
    # The service is told the sandbox's origin (its images) before the sandbox runs.
    platform_port = _free_port()
    connector_key, viewer_key = _keys(settings)
    for leftover in data.glob("connector*.db*"):
        # The sandbox's marketplace starts empty: so does the connector's memory of it.
        leftover.unlink()
    kept = "connector state and queue, service log"
    echo(f"data        {data}  ({kept if options.database_url else 'store, ' + kept})")
    with ExitStack() as stack:
        service = Service(
            settings.database_url, port, data / SERVICE_LOG, f"http://{HOST}:{platform_port}"
        )
        stack.callback(service.stop)
        service.wait_healthy()
        echo(f"service     {service.url}  (store {settings.database_url})")
        settled = SettledSkus()
        market = MarketplaceConfig()
        if options.rate_limit is not None:
            market.rate_limit_per_second = options.rate_limit or None
        sandbox_config = SandboxConfig(
            seed=options.seed, sku_count=options.skus, flaw_rate=options.flaw_rate,
            accounts=(ACCOUNT,), marketplace=market, host=HOST, platform_port=platform_port,
        )  # fmt: skip
        local = LocalConnector(
            sandbox_config,
            {
                "service_url": service.url,
                "service_app_key": connector_key.app_key,
                "service_app_token": connector_key.app_token,
                "database_url": f"sqlite:///{data / CONNECTOR_DB}",
                "agent": "sentoffers-demo-connector",
            },
            on_settled=settled,
        )
        stack.callback(local.close)
        sandbox = local.sandbox
        echo(f"sandbox     VTEX {sandbox.platform_url}, marketplace {sandbox.marketplace_url}")
        echo(f"connector   {local.notify_url}  (feed {local.connector.feed_id})")
        total = len(local.sandbox.catalog.sku_ids())
        echo(f"initial load of {total} SKUs (seed {options.seed}) through the broadcaster")
        loader = threading.Thread(
            target=local.sandbox.initial_load, name="initial-load", daemon=True
        )
        started = time.monotonic()
        loader.start()
        limit = options.timeout_seconds or max(120.0, total * 0.6)
        _follow(total, settled, started + limit, console)
        elapsed = time.monotonic() - started
        done = len(settled)
        echo(f"{done} of {total} SKUs settled in {elapsed:.1f} s ({done / elapsed:.1f} SKUs/s)")
        states = local.connector.states.counts(ACCOUNT)
        echo("connector   " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
        counts = _service_counts(service.url, viewer_key, local.connector.feed_id)
        echo("service     " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        echo("")
        echo(f"Open the UI at {service.url}/ and sign in with:")
        echo(f"  account    {ACCOUNT}")
        echo(f"  app key    {viewer_key.app_key}")
        echo(f"  app token  {viewer_key.app_token}")
        viewer = {"account": ACCOUNT, "appKey": viewer_key.app_key,
                  "appToken": viewer_key.app_token}  # fmt: skip
        echo(json.dumps({"skus": total, "settled": done, "seconds": round(elapsed, 2),
                         "states": states, "offers": counts, "ui": f"{service.url}/",
                         "viewer": viewer, "dataDir": str(data)}))  # fmt: skip
        if done < total:
            echo(f"error: {total - done} SKUs did not settle within {limit:.0f} s")
            return 1
        if options.exit_when_done:
            return 0
        echo("")
        echo("Running until Ctrl-C (or SIGTERM).")
        _suggest_price_change(local, service.url, echo)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
        echo("stopping the connector, the sandbox and the service")
    return 0


def _suggest_price_change(
    local: LocalConnector, service_url: str, echo: Callable[[str], None]
) -> None:
    """A ``curl`` changing the price of a SKU the marketplace lists, and what it shows."""
    listed = [
        (record.sku_id, record.price)
        for record in local.connector.states.records(ACCOUNT)
        if record.state is SkuState.SYNCED
        and record.marketplace_id
        and record.active_in_marketplace
        and record.price is not None
    ]
    if not listed:
        return
    (sku_id, was), sandbox = listed[0], local.sandbox
    price = max(was * 9 // 10, 1)
    page = f"{service_url}{offer_url(local.connector.feed_id, sku_id)}"
    echo(f"Try a price change: SKU {sku_id} sells on the marketplace at {money(was)}; this "
         f"makes it {money(price)}:")  # fmt: skip
    echo(
        f"  curl -X POST -H 'X-VTEX-API-AppKey: {sandbox.config.app_key}' "
        f"-H 'X-VTEX-API-AppToken: {sandbox.config.app_token}' "
        f"-H 'Content-Type: application/json' -d '{{\"price\": {price}}}' "
        f"{sandbox.platform_url}/_sandbox/skus/{sku_id}/price"
    )
    echo(f"Then see its offer page, {page}: within a second or two its Interactions list "
         f"starts with a Price row, new price {money(price)}, Success (an open page "
         "updates itself).")  # fmt: skip


def end_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Ask a child process to stop (SIGTERM), then make it (SIGKILL) after ``timeout``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
