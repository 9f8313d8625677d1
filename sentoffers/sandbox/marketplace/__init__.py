"""A sample marketplace for connectors to push to: rules, tokens, throttling and failures."""

from sentoffers.sandbox.marketplace.app import (
    MarketplaceConfig,
    SampleMarketplace,
    build_marketplace,
)
from sentoffers.sandbox.marketplace.state import ListedProduct, MarketplaceRefusal, MarketplaceState

__all__ = [
    "ListedProduct",
    "MarketplaceConfig",
    "MarketplaceRefusal",
    "MarketplaceState",
    "SampleMarketplace",
    "build_marketplace",
]
