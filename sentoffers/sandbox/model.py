"""The sandbox catalog's records: products, SKUs, prices, images, dimensions, flaws, changes.

Plain mutable dataclasses, owned by a ``SandboxCatalog``, which hands out copies only
(``copy_sku``, ``copy_product``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Flaw(StrEnum):
    """A realistic problem a connector must catch before sending a SKU to the marketplace."""

    LONG_DESCRIPTION = "long_description"
    HTML_DESCRIPTION = "html_description"
    MISSING_IMAGES = "missing_images"
    MISSING_DIMENSIONS = "missing_dimensions"
    BAD_EAN = "bad_ean"
    UNMAPPED_CATEGORY = "unmapped_category"
    INACTIVE_PRODUCT = "inactive_product"
    OUTSIDE_TRADE_POLICY = "outside_trade_policy"
    NO_PRICE = "no_price"


PRODUCT_FLAWS = frozenset(
    {Flaw.LONG_DESCRIPTION, Flaw.HTML_DESCRIPTION, Flaw.UNMAPPED_CATEGORY, Flaw.INACTIVE_PRODUCT}
)
"""Flaws of the product, shared by all its SKUs; the others belong to one SKU."""

REGISTRATION_FLAWS = frozenset(
    {
        Flaw.LONG_DESCRIPTION,
        Flaw.HTML_DESCRIPTION,
        Flaw.MISSING_IMAGES,
        Flaw.MISSING_DIMENSIONS,
        Flaw.BAD_EAN,
        Flaw.UNMAPPED_CATEGORY,
    }
)
"""Flaws the marketplace's registration rules refuse; the rest are the connector's to see."""


@dataclass(slots=True)
class Product:
    """A product: what its SKUs share (name, description, brand, category, active)."""

    id: int
    name: str
    description: str
    brand_id: int
    brand: str
    category_id: int
    category: str
    department_id: int
    department: str
    ref_id: str
    link_id: str
    keywords: str
    release_date: str
    is_active: bool = True


@dataclass(slots=True)
class Price:
    """Prices of a SKU in one trade policy, in cents: list (from), price, selling (sales)."""

    list_price: int
    price: int
    selling_price: int


@dataclass(slots=True)
class Image:
    """A SKU image; its URL is built on the platform's address."""

    file_id: int
    name: str
    label: str = ""


@dataclass(slots=True)
class Dimension:
    """Centimetres and grams; 0 means not filled in."""

    height: float
    width: float
    length: float
    weight: float


@dataclass(slots=True)
class Sku:
    """A SKU: its EAN, images, dimensions, trade policies, prices per policy and stock."""

    id: int
    product_id: int
    name: str
    ref_id: str
    ean: str
    images: list[Image]
    dimension: Dimension
    specification: tuple[str, str] | None
    sales_channels: set[int]
    prices: dict[int, Price]
    stock: int
    is_active: bool = True


@dataclass(frozen=True, slots=True)
class CatalogChange:
    """What changed on one SKU; the broadcaster turns it into an affiliate notification."""

    sku_id: int
    product_id: int
    date_modified: datetime
    is_active: bool
    sales_channels: frozenset[int]
    stock_modified: bool = False
    price_modified: bool = False
    sku_modified: bool = False
    removed_from: frozenset[int] = field(default_factory=frozenset)


def copy_sku(sku: Sku) -> Sku:
    """A deep copy of a SKU. By hand, field by field: ``copy.deepcopy`` and even
    ``dataclasses.replace`` cost several times more, and the simulation copies a SKU per item."""
    d = sku.dimension
    return Sku(
        sku.id,
        sku.product_id,
        sku.name,
        sku.ref_id,
        sku.ean,
        [Image(image.file_id, image.name, image.label) for image in sku.images],
        Dimension(d.height, d.width, d.length, d.weight),
        sku.specification,
        set(sku.sales_channels),
        {c: Price(p.list_price, p.price, p.selling_price) for c, p in sku.prices.items()},
        sku.stock,
        sku.is_active,
    )


def copy_product(product: Product) -> Product:
    """A copy of a product (all its fields are immutable values); by hand, for speed."""
    p = product
    return Product(
        p.id,
        p.name,
        p.description,
        p.brand_id,
        p.brand,
        p.category_id,
        p.category,
        p.department_id,
        p.department,
        p.ref_id,
        p.link_id,
        p.keywords,
        p.release_date,
        p.is_active,
    )
