"""A VTEX platform and a sample marketplace on one machine, for connectors, demos and tests.

- ``generate_catalog``: a deterministic catalog with tagged flaws (``Flaw``);
- ``VtexPlatform`` / ``build_platform``: the Catalog and Checkout endpoints of
  vtex-platform-subset.openapi.json over such catalogs;
- ``Broadcaster``: catalog change notifications POSTed to an affiliate endpoint;
- ``SampleMarketplace`` / ``build_marketplace``: a marketplace API with registration rules,
  tokens, throttling and failures;
- ``start_sandbox``: all of it on free loopback ports, in background threads.
"""

from sentoffers.sandbox.catalog import (
    PRODUCT_FLAWS,
    REGISTRATION_FLAWS,
    CatalogChange,
    Dimension,
    Flaw,
    Image,
    Price,
    Product,
    SandboxCatalog,
    Sku,
    UnknownItem,
)
from sentoffers.sandbox.generate import generate_catalog
from sentoffers.sandbox.marketplace import (
    ListedProduct,
    MarketplaceConfig,
    MarketplaceRefusal,
    MarketplaceState,
    SampleMarketplace,
    build_marketplace,
)
from sentoffers.sandbox.notifications import (
    DOCUMENT_NAMES,
    NOTIFICATION_FIELDS,
    Broadcaster,
    Delivery,
    SkuChange,
)
from sentoffers.sandbox.platform import PlatformKey, VtexPlatform, build_platform
from sentoffers.sandbox.rules import MarketplaceRules, RuleError, valid_gtin
from sentoffers.sandbox.runner import (
    Sandbox,
    SandboxConfig,
    ServerThread,
    serve_in_thread,
    start_sandbox,
)

__all__ = [
    "DOCUMENT_NAMES",
    "NOTIFICATION_FIELDS",
    "PRODUCT_FLAWS",
    "REGISTRATION_FLAWS",
    "Broadcaster",
    "CatalogChange",
    "Delivery",
    "Dimension",
    "Flaw",
    "Image",
    "ListedProduct",
    "MarketplaceConfig",
    "MarketplaceRefusal",
    "MarketplaceRules",
    "MarketplaceState",
    "PlatformKey",
    "Price",
    "Product",
    "RuleError",
    "SampleMarketplace",
    "Sandbox",
    "SandboxCatalog",
    "SandboxConfig",
    "ServerThread",
    "Sku",
    "SkuChange",
    "UnknownItem",
    "VtexPlatform",
    "build_marketplace",
    "build_platform",
    "generate_catalog",
    "serve_in_thread",
    "start_sandbox",
    "valid_gtin",
]
