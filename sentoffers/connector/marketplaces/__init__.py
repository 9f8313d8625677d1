"""Marketplace adapters. ``sample`` is the sandbox's sample marketplace, the one to copy."""

from sentoffers.connector.marketplaces.sample import SampleMarketplaceAdapter

__all__ = ["SampleMarketplaceAdapter"]
