"""Run the emulated VTEX platform and the sample marketplace on loopback, in this process.

``serve_in_thread`` serves any ASGI app with uvicorn in a daemon thread, on a socket it binds
itself (port 0: a free port, known before the server starts, so nothing races for it).
``start_sandbox`` builds the catalogs, the platform, the marketplace and (with a
``notify_url``) the broadcasters, starts both servers and returns a ``Sandbox`` to use and
close; ``sentoffers sandbox`` and tests use it alike.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Literal, Self

import uvicorn

from sentoffers.sandbox.catalog import SandboxCatalog
from sentoffers.sandbox.generate import generate_catalog
from sentoffers.sandbox.marketplace import MarketplaceConfig, SampleMarketplace
from sentoffers.sandbox.notifications import Broadcaster, Casing, Delivery
from sentoffers.sandbox.platform import PlatformKey, VtexPlatform

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


class ServerThread:
    """A uvicorn server in a daemon thread; ``url`` is ``http://host:port``.

    ``lifespan="on"`` runs the app's startup and shutdown (``start`` then waits for the
    startup to finish).
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "asgi",
        lifespan: Literal["auto", "on", "off"] = "off",
    ):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host = host
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(
            app, log_config=None, log_level="warning", access_log=False, lifespan=lifespan
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name=name, daemon=True
        )

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        """Start serving; raises ``RuntimeError`` if the server is not up within ``timeout``."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server for {self.url} did not start")
            time.sleep(0.01)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Ask the server to finish its requests and stop; wait for it up to ``timeout``."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()


def serve_in_thread(app: Any, *, host: str = "127.0.0.1", port: int = 0) -> ServerThread:
    """Serve ``app`` on ``host:port`` (0: a free port) in a background thread, started."""
    server = ServerThread(app, host=host, port=port)
    server.start()
    return server


def _app_key() -> str:
    return f"vtexappkey-sandbox-{secrets.token_hex(3).upper()}"


@dataclass(slots=True)
class SandboxConfig:
    """What to emulate. Credentials are random unless given."""

    seed: int = 1
    sku_count: int = 100
    flaw_rate: float = 0.2
    accounts: tuple[str, ...] = ("sandbox",)
    affiliate_id: str = "SBX"
    sales_channel: int = 1
    app_key: str = field(default_factory=_app_key)
    app_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    notify_url: str | None = None
    notification_casing: Casing = "vtex"
    notification_concurrency: int = 32
    marketplace: MarketplaceConfig = field(default_factory=MarketplaceConfig)
    host: str = "127.0.0.1"
    platform_port: int = 0
    marketplace_port: int = 0


class Sandbox:
    """A running sandbox: URLs, credentials, catalogs, the marketplace, the broadcasters."""

    def __init__(self, config: SandboxConfig):
        self.config = config
        self.catalogs: dict[str, SandboxCatalog] = {
            account: generate_catalog(
                config.seed + index,
                config.sku_count,
                flaw_rate=config.flaw_rate,
                account=account,
                sales_channel=config.sales_channel,
                rules=config.marketplace.rules,
            )
            for index, account in enumerate(config.accounts)
        }
        self.broadcasters: dict[str, Broadcaster] = {}
        self._detach: list[Any] = []
        if config.notify_url:
            for account, catalog in self.catalogs.items():
                broadcaster = Broadcaster(
                    config.notify_url,
                    affiliate_id=config.affiliate_id,
                    sales_channel=config.sales_channel,
                    casing=config.notification_casing,
                    concurrency=config.notification_concurrency,
                )
                self.broadcasters[account] = broadcaster
                self._detach.append(broadcaster.attach(catalog))
        self.platform = VtexPlatform(
            self.catalogs,
            [PlatformKey(config.app_key, config.app_token)],
            broadcasters=self.broadcasters,
        )
        self.marketplace = SampleMarketplace(config.marketplace)
        self._servers: list[ServerThread] = []

    def start(self) -> Self:
        """Start both servers (the platform first); on failure nothing is left running."""
        try:
            for app, port in (
                (self.platform.app, self.config.platform_port),
                (self.marketplace.app, self.config.marketplace_port),
            ):
                self._servers.append(serve_in_thread(app, host=self.config.host, port=port))
        except BaseException:
            self.close()
            raise
        return self

    @property
    def platform_url(self) -> str:
        """The platform's URL; the first account is served at its root."""
        return self._servers[0].url

    @property
    def marketplace_url(self) -> str:
        """The sample marketplace's URL."""
        return self._servers[1].url

    @property
    def catalog(self) -> SandboxCatalog:
        """The first account's catalog."""
        return next(iter(self.catalogs.values()))

    @property
    def catalog_base_url(self) -> str:
        """A base URL template with ``{account}``, as ``SENTOFFERS_CATALOG_BASE_URL`` takes."""
        return self.platform_url + "/{account}"

    def account_url(self, account: str | None = None) -> str:
        """The platform's URL for one account (the path prefix form)."""
        return f"{self.platform_url}/{account or self.catalog.account}"

    def vtex_headers(self) -> dict[str, str]:
        """The AppKey/AppToken headers the platform accepts."""
        return {
            "X-VTEX-API-AppKey": self.config.app_key,
            "X-VTEX-API-AppToken": self.config.app_token,
        }

    def initial_load(
        self, account: str | None = None, *, concurrency: int | None = None
    ) -> list[Delivery]:
        """Notify every SKU of an account (default: the first) to the affiliate endpoint,
        ``concurrency`` (default: ``notification_concurrency``) at a time."""
        catalog = self.catalogs[account or self.catalog.account]
        broadcaster = self.broadcasters.get(catalog.account)
        if broadcaster is None:
            raise RuntimeError("no notify_url was configured")
        return broadcaster.initial_load(catalog, concurrency=concurrency)

    def summary(self) -> dict[str, Any]:
        """URLs, credentials and sizes as JSON-able data (``sentoffers sandbox --json``)."""
        config, market = self.config, self.config.marketplace
        return {
            "platformUrl": self.platform_url,
            "catalogBaseUrl": self.catalog_base_url,
            "accounts": list(self.catalogs),
            "appKey": config.app_key,
            "appToken": config.app_token,
            "affiliateId": config.affiliate_id,
            "salesChannel": config.sales_channel,
            "notifyUrl": config.notify_url,
            "marketplaceUrl": self.marketplace_url,
            "clientId": market.client_id,
            "clientSecret": market.client_secret,
            "seed": config.seed,
            "skus": config.sku_count,
        }

    def describe(self) -> str:
        """What runs where, with the credentials: what ``sentoffers sandbox`` prints."""
        config, market = self.config, self.config.marketplace
        lines = [
            f"VTEX platform   {self.platform_url}",
            f"  accounts      {', '.join(self.catalogs)} (path prefix {self.platform_url}/"
            f"<account>/api/...; the first is also served at the root)",
            f"  catalog base  {self.catalog_base_url}",
            f"  X-VTEX-API-AppKey:   {config.app_key}",
            f"  X-VTEX-API-AppToken: {config.app_token}",
            f"  affiliate {config.affiliate_id}, sales channel (sc) {config.sales_channel}, "
            f"notifications to {config.notify_url or '(none: use --notify-url)'}",
            f"Marketplace     {self.marketplace_url}   (docs at /docs)",
            f"  POST /oauth/token grant_type=client_credentials client_id={market.client_id} "
            f"client_secret={market.client_secret}",
            f"  limits: {market.rate_limit_per_second or 'no'} requests/s, lots of "
            f"{market.max_lot_size}, failure rate {market.failure_rate}"
            + (
                f", down for {market.down_for_seconds:g} s after {market.down_after_seconds:g} s"
                if market.down_for_seconds
                else ""
            ),
        ]
        for account, catalog in self.catalogs.items():
            counts: Counter[str] = Counter({str(k): v for k, v in catalog.flaw_counts().items()})
            flawed = sum(bool(catalog.flaws(sku_id)) for sku_id in catalog.sku_ids())
            detail = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
            lines.append(
                f"Catalog {account}: {len(catalog.sku_ids())} SKUs, "
                f"{len(catalog.product_ids())} products (seed {catalog.seed}), "
                f"{flawed} with flaws{': ' + detail if detail else ''}"
            )
        return "\n".join(lines)

    def close(self) -> None:
        """Stop the servers and the broadcasters."""
        for detach in self._detach:
            detach()
        for server in reversed(self._servers):
            server.stop()
        for broadcaster in self.broadcasters.values():
            broadcaster.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def start_sandbox(config: SandboxConfig | None = None, **overrides: Any) -> Sandbox:
    """Build and start a sandbox: ``start_sandbox(seed=7, sku_count=50, notify_url=...)``."""
    config = replace(config or SandboxConfig(), **overrides)
    return Sandbox(config).start()
