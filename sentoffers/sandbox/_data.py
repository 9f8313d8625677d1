"""Fixed tables the catalog generator draws from: a category tree, brands, product kinds.

The tree and its map to the sample marketplace's categories are constants, so the map is the
same for every seed; the seed only decides which products land where. The last department's
categories are missing from the marketplace's map on purpose (the ``unmapped_category`` flaw).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of product: where it sits, how it varies, what it costs and measures."""

    category_id: int
    category: str
    department_id: int
    department: str
    marketplace_category: str | None
    nouns: tuple[str, ...]
    axis: str | None
    price_cents: tuple[int, int]
    size_cm: tuple[int, int]
    weight_g: tuple[int, int]


AXES: dict[str, tuple[str, ...]] = {
    "Color": ("Black", "White", "Blue", "Red", "Green", "Graphite", "Pink", "Navy"),
    "Size": ("XS", "S", "M", "L", "XL", "XXL"),
    "Shoe size": ("36", "37", "38", "39", "40", "41", "42", "43", "44"),
    "Voltage": ("110V", "220V"),
    "Capacity": ("64GB", "128GB", "256GB", "512GB"),
    "Volume": ("250ml", "500ml", "1L"),
}

BRANDS: dict[int, tuple[str, ...]] = {
    1: ("Norvik", "Altamira", "Voltena", "Kairo"),
    2: ("Casa Lume", "Ferro & Co", "Brisa", "Oaken"),
    3: ("Trilha", "Pulse Gear", "Ondina"),
    4: ("Maré", "Linho Norte", "Urbano"),
    5: ("Pipoca", "Bloco Bom", "Ciranda"),
    6: ("Verdeal", "Aurora Skin", "Nuvem"),
    7: ("Rustica", "Old Post", "Tinteiro"),
}


def _kind(
    dept: tuple[int, str],
    cat: tuple[int, str, str | None],
    nouns: tuple[str, ...],
    axis: str | None,
    price: tuple[int, int],
    size: tuple[int, int],
    weight: tuple[int, int],
) -> Kind:
    return Kind(cat[0], cat[1], dept[0], dept[1], cat[2], nouns, axis, price, size, weight)


_EL = (1, "Electronics")
_HO = (2, "Home & Kitchen")
_SP = (3, "Sports")
_FA = (4, "Fashion")
_TO = (5, "Toys")
_BE = (6, "Beauty")
_CO = (7, "Collectibles")

KINDS: tuple[Kind, ...] = (
    _kind(
        _EL,
        (10, "Smartphones", "electronics.phones"),
        ("Smartphone", "Phone"),
        "Capacity",
        (89900, 899900),
        (14, 18),
        (150, 260),
    ),
    _kind(
        _EL,
        (11, "Headphones", "electronics.audio"),
        ("Headphones", "Earbuds"),
        "Color",
        (9900, 199900),
        (8, 22),
        (40, 400),
    ),
    _kind(
        _EL,
        (12, "Televisions", "electronics.tv"),
        ("Smart TV", "LED TV"),
        None,
        (149900, 999900),
        (60, 140),
        (6000, 25000),
    ),
    _kind(
        _EL,
        (13, "Chargers", "electronics.accessories"),
        ("Charger", "Power Bank"),
        "Color",
        (2900, 24900),
        (5, 15),
        (50, 350),
    ),
    _kind(
        _HO,
        (20, "Cookware", "home.kitchen"),
        ("Frying Pan", "Saucepan", "Wok"),
        "Color",
        (4900, 59900),
        (10, 45),
        (600, 3200),
    ),
    _kind(
        _HO,
        (21, "Small Appliances", "home.appliances"),
        ("Blender", "Air Fryer", "Kettle"),
        "Voltage",
        (12900, 89900),
        (20, 45),
        (1200, 6500),
    ),
    _kind(
        _HO,
        (22, "Bedding", "home.bedding"),
        ("Duvet Cover", "Sheet Set", "Pillow"),
        "Color",
        (5900, 39900),
        (5, 50),
        (400, 2500),
    ),
    _kind(
        _SP,
        (30, "Running", "sports.running"),
        ("Running Shoe", "Trail Shoe"),
        "Shoe size",
        (19900, 79900),
        (12, 35),
        (500, 1100),
    ),
    _kind(
        _SP,
        (31, "Fitness", "sports.fitness"),
        ("Yoga Mat", "Dumbbell", "Jump Rope"),
        "Color",
        (2900, 39900),
        (5, 180),
        (200, 10000),
    ),
    _kind(
        _SP,
        (32, "Cycling", "sports.cycling"),
        ("Bike Helmet", "Bike Light"),
        "Size",
        (6900, 49900),
        (10, 30),
        (150, 600),
    ),
    _kind(
        _FA,
        (40, "T-Shirts", "fashion.tops"),
        ("T-Shirt", "Polo Shirt"),
        "Size",
        (3900, 17900),
        (2, 35),
        (150, 350),
    ),
    _kind(
        _FA,
        (41, "Jeans", "fashion.bottoms"),
        ("Slim Jeans", "Straight Jeans"),
        "Size",
        (12900, 39900),
        (3, 45),
        (450, 900),
    ),
    _kind(
        _FA,
        (42, "Bags", "fashion.bags"),
        ("Backpack", "Tote Bag", "Crossbody Bag"),
        "Color",
        (7900, 69900),
        (10, 50),
        (300, 1500),
    ),
    _kind(
        _TO,
        (50, "Building Blocks", "toys.blocks"),
        ("Block Set", "Construction Kit"),
        None,
        (5900, 99900),
        (10, 60),
        (300, 3000),
    ),
    _kind(
        _TO,
        (51, "Board Games", "toys.games"),
        ("Board Game", "Card Game"),
        None,
        (3900, 34900),
        (5, 40),
        (200, 2200),
    ),
    _kind(
        _BE,
        (60, "Skin Care", "beauty.skin"),
        ("Moisturizer", "Face Serum", "Sunscreen"),
        "Volume",
        (2900, 24900),
        (4, 18),
        (60, 1100),
    ),
    _kind(
        _BE,
        (61, "Fragrances", "beauty.fragrance"),
        ("Eau de Parfum", "Body Mist"),
        "Volume",
        (8900, 79900),
        (6, 20),
        (150, 900),
    ),
    # Not in the marketplace's category map: products here are the unmapped_category flaw.
    _kind(
        _CO,
        (70, "Vintage Stamps", None),
        ("Stamp Album", "Stamp Lot"),
        None,
        (4900, 149900),
        (2, 35),
        (50, 900),
    ),
    _kind(
        _CO,
        (71, "Fountain Pens", None),
        ("Fountain Pen", "Ink Set"),
        "Color",
        (5900, 129900),
        (3, 20),
        (30, 300),
    ),
)

MAPPED_KINDS = tuple(kind for kind in KINDS if kind.marketplace_category is not None)
UNMAPPED_KINDS = tuple(kind for kind in KINDS if kind.marketplace_category is None)

CATEGORY_MAP: dict[int, str] = {
    kind.category_id: kind.marketplace_category
    for kind in KINDS
    if kind.marketplace_category is not None
}
"""VTEX category id -> the sample marketplace's category id."""

MARKETPLACE_CATEGORIES: frozenset[str] = frozenset(CATEGORY_MAP.values())

MODELS = ("Pro", "Lite", "Max", "Air", "One", "Neo", "Prime", "Classic", "Sport", "Go")

FEATURES = (
    "Made with durable materials chosen to last through daily use.",
    "Designed and tested to keep its shape and finish wash after wash.",
    "Light enough to carry all day, strong enough for the hard days.",
    "Every unit is inspected before it leaves the warehouse.",
    "Comes with a 12-month warranty against manufacturing defects.",
    "Easy to clean: a damp cloth is all it takes.",
    "The packaging is made of recycled cardboard and can be recycled again.",
    "Its compact shape fits in a drawer, a bag or a small apartment.",
    "Tested by our team for comfort, safety and ease of use.",
    "A favourite of customers who want quality without paying for a label.",
)
