"""A connector beside a sandbox, on loopback, in background threads: for the demo and tests.

The sandbox must know the affiliate endpoint's URL before it starts (its broadcaster posts
there), and the connector the sandbox's URLs and credentials: the endpoint's socket is bound
first, behind an app filled in once the sandbox runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import Any, Self

from starlette.types import ASGIApp, Receive, Scope, Send

from sentoffers.connector.app import create_app
from sentoffers.connector.model import SkuRecord
from sentoffers.connector.runtime import Connector
from sentoffers.connector.settings import ConnectorSettings
from sentoffers.sandbox import Sandbox, SandboxConfig, ServerThread, start_sandbox
from sentoffers.sandbox.adapter import SampleMarketplaceAdapter

__all__ = ["LocalConnector", "connector_settings_for"]


class _Later:
    """An ASGI app whose real app is given after the server's socket is bound."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "the app was not set before the server started"
        await self.app(scope, receive, send)


def connector_settings_for(sandbox: Sandbox, **values: Any) -> ConnectorSettings:
    """Settings pointing a connector at every store of ``sandbox`` and its marketplace."""
    config = sandbox.config
    stores = [
        {
            "account": account,
            "vtexBaseUrl": sandbox.account_url(account),
            "appKey": config.app_key,
            "appToken": config.app_token,
            "affiliateId": config.affiliate_id,
            "salesChannel": config.sales_channel,
        }
        for account in sandbox.catalogs
    ]
    market = config.marketplace
    # A little under the published limit: a request that lands in a busy second is answered
    # 429 and waits a whole second.
    pace = market.rate_limit_per_second * 0.9 if market.rate_limit_per_second else None
    return ConnectorSettings.model_validate(
        {
            "stores": stores,
            "marketplace_url": sandbox.marketplace_url,
            "marketplace_client_id": market.client_id,
            "marketplace_client_secret": market.client_secret,
            "marketplace_requests_per_second": pace,
            "marketplace_lot_size": market.max_lot_size,
            **values,
        }
    )


class LocalConnector:
    """A sandbox and a connector serving its notifications, started together.

    ``settings`` holds the service's URL and key and anything else to set; the store and
    marketplace settings come from the sandbox.
    """

    def __init__(
        self,
        sandbox_config: SandboxConfig,
        settings: dict[str, Any],
        *,
        on_settled: Callable[[SkuRecord], None] | None = None,
    ) -> None:
        self._later = _Later()
        self.server = ServerThread(self._later, name="connector", lifespan="on")
        self.notify_url = f"{self.server.url}/api/notification/"
        self.sandbox = start_sandbox(replace(sandbox_config, notify_url=self.notify_url))
        try:
            self.settings = connector_settings_for(self.sandbox, **settings)
            self.connector = Connector(
                self.settings, SampleMarketplaceAdapter, on_settled=on_settled
            )
            self._later.app = create_app(self.connector)
            self.server.start()
        except BaseException:
            self.sandbox.close()
            raise

    @property
    def url(self) -> str:
        """The connector's base URL."""
        return self.server.url

    def close(self) -> None:
        """Stop the connector (its workers and jobs), then the sandbox."""
        self.server.stop()
        self.sandbox.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None
    ) -> None:
        self.close()
