"""Offer metadata (name, image, productId, brand, category) from the VTEX Catalog.

Connectors may send these fields in a log's ``data``; for offers that have no name, a
background job asks the catalog (``catalog_base_url``, off by default) and fills what is
still empty. See ``enrichment`` for how a pass works.
"""

from sentoffers.server.features.catalog.client import (
    CatalogAuthError,
    CatalogClient,
    CatalogError,
    CatalogUnavailable,
    SkuMetadata,
    sku_metadata_from_json,
)
from sentoffers.server.features.catalog.enrichment import (
    EnrichmentResult,
    catalog_enrichment,
    enrich_offers,
)

__all__ = [
    "CatalogAuthError",
    "CatalogClient",
    "CatalogEnrichment",
    "CatalogError",
    "CatalogUnavailable",
    "EnrichmentResult",
    "SkuMetadata",
    "catalog_enrichment",
    "enrich_offers",
    "sku_metadata_from_json",
]
