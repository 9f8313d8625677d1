"""A sample marketplace for connectors to push to: rules, tokens, throttling and failures."""

from sentoffers.sandbox.marketplace.app import (
    MarketplaceConfig,
    SampleMarketplace,
    build_marketplace,
)
from sentoffers.sandbox.marketplace.state import ListedProduct, MarketplaceError, MarketplaceState

__all__ = [
    "ListedProduct",
    "MarketplaceConfig",
    "MarketplaceError",
    "MarketplaceState",
    "SampleMarketplace",
    "build_marketplace",
]
