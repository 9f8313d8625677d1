"""A deterministic catalog: the same seed and options always give the same products and SKUs.

Products have one to four SKUs (colours, sizes, voltages, capacities), with brands, categories,
images, dimensions, EAN-13s, prices and stock. ``round(sku_count * flaw_rate)`` SKUs get one
flaw each, the kinds taken in turn; a product flaw (description, category, inactive) marks
every SKU of its product, so such flaws go to products small enough to fit the count.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection
from dataclasses import dataclass

from sentoffers.sandbox._data import AXES, BRANDS, FEATURES, MAPPED_KINDS, MODELS, UNMAPPED_KINDS
from sentoffers.sandbox._data import Kind as _Kind
from sentoffers.sandbox.catalog import (
    PRODUCT_FLAWS,
    Dimension,
    Flaw,
    Image,
    Price,
    Product,
    SandboxCatalog,
    Sku,
)
from sentoffers.sandbox.rules import MarketplaceRules, gtin_check_digit

FIRST_PRODUCT_ID = 1001
FIRST_SKU_ID = 2000001
FIRST_FILE_ID = 150001


@dataclass(slots=True)
class _Draft:
    product: Product
    skus: list[Sku]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class _Generator:
    def __init__(self, seed: int, sales_channel: int, rules: MarketplaceRules):
        self.rng = random.Random(seed)
        self.sales_channel = sales_channel
        self.rules = rules
        self.next_file_id = FIRST_FILE_ID
        self.eans: set[str] = set()

    def ean(self) -> str:
        while True:
            body = "789" + "".join(str(self.rng.randrange(10)) for _ in range(9))
            code = body + str(gtin_check_digit(body))
            if code not in self.eans:
                self.eans.add(code)
                return code

    def description(self, name: str) -> str:
        features = self.rng.sample(FEATURES, self.rng.randint(3, 6))
        return f"{name}. " + " ".join(features)

    def price(self, kind: _Kind) -> Price:
        low, high = kind.price_cents
        list_price = self.rng.randrange(low // 100, high // 100 + 1) * 100 - 10
        price = list_price if self.rng.random() < 0.6 else round(list_price * 0.85)
        selling = price if self.rng.random() < 0.8 else round(price * 0.9)
        return Price(list_price=list_price, price=price, selling_price=selling)

    def dimension(self, kind: _Kind) -> Dimension:
        low, high = kind.size_cm
        sides = sorted(self.rng.randint(low, high) for _ in range(3))
        weight = self.rng.randint(*kind.weight_g)
        return Dimension(height=sides[0], width=sides[1], length=sides[2], weight=weight)

    def images(self, slug: str) -> list[Image]:
        found = []
        for index in range(self.rng.randint(1, 4)):
            found.append(
                Image(self.next_file_id, f"{slug}-{index + 1}", "Main" if not index else "")
            )
            self.next_file_id += 1
        return found

    def draft(self, product_id: int, first_sku_id: int, kind: _Kind, sku_count: int) -> _Draft:
        rng = self.rng
        brand_index = rng.randrange(len(BRANDS[kind.department_id]))
        brand = BRANDS[kind.department_id][brand_index]
        name = f"{brand} {rng.choice(kind.nouns)} {rng.choice(MODELS)}"
        product = Product(
            id=product_id,
            name=name,
            description=self.description(name),
            brand_id=2000000 + kind.department_id * 10 + brand_index,
            brand=brand,
            category_id=kind.category_id,
            category=kind.category,
            department_id=kind.department_id,
            department=kind.department,
            ref_id=f"P{product_id}",
            link_id=f"{_slug(name)}-{product_id}",
            keywords=", ".join(sorted({*name.lower().split()[1:], brand.lower()})),
            release_date=f"20{rng.randint(21, 24)}-{rng.randint(1, 12):02d}-"
            f"{rng.randint(1, 28):02d}T00:00:00",
        )
        values = rng.sample(AXES[kind.axis], sku_count) if kind.axis else [""]
        skus = []
        for index, value in enumerate(values):
            sku_name = value or name
            channels = {self.sales_channel}
            if rng.random() < 0.4:
                channels.add(self.sales_channel + 1)
            skus.append(
                Sku(
                    id=first_sku_id + index,
                    product_id=product_id,
                    name=sku_name,
                    ref_id=f"P{product_id}-{index + 1}",
                    ean=self.ean(),
                    images=self.images(_slug(f"{name} {value}")),
                    dimension=self.dimension(kind),
                    specification=(kind.axis, value) if kind.axis else None,
                    sales_channels=channels,
                    prices={channel: self.price(kind) for channel in sorted(channels)},
                    stock=0 if rng.random() < 0.15 else rng.randint(1, 300),
                )
            )
        return _Draft(product, skus)

    def drafts(self, sku_count: int) -> list[_Draft]:
        drafts: list[_Draft] = []
        made = 0
        while made < sku_count:
            kind = self.rng.choice(MAPPED_KINDS)
            room = len(AXES[kind.axis]) if kind.axis else 1
            size = min(self.rng.choice((1, 1, 2, 2, 3, 4)), room, sku_count - made)
            drafts.append(
                self.draft(FIRST_PRODUCT_ID + len(drafts), FIRST_SKU_ID + made, kind, size)
            )
            made += size
        return drafts

    def apply(self, flaw: Flaw, draft: _Draft, sku: Sku | None) -> _Draft:
        rng, product = self.rng, draft.product
        if flaw is Flaw.LONG_DESCRIPTION:
            paragraphs = [product.description]
            while sum(len(p) + 2 for p in paragraphs) <= self.rules.max_description + 200:
                paragraphs.append(" ".join(rng.sample(FEATURES, len(FEATURES))))
            product.description = "\n\n".join(paragraphs)
        elif flaw is Flaw.HTML_DESCRIPTION:
            items = "".join(f"<li>{text}</li>" for text in rng.sample(FEATURES, 3))
            product.description = f"<p><strong>{product.name}</strong></p><ul>{items}</ul>"
        elif flaw is Flaw.UNMAPPED_CATEGORY:
            choices = [k for k in UNMAPPED_KINDS if len(draft.skus) == 1 or k.axis is not None]
            kind = rng.choice(choices)
            return self.draft(product.id, draft.skus[0].id, kind, len(draft.skus))
        elif flaw is Flaw.INACTIVE_PRODUCT:
            product.is_active = False
        elif sku is None:
            raise ValueError(f"{flaw} needs a SKU")
        elif flaw is Flaw.MISSING_IMAGES:
            sku.images = []
        elif flaw is Flaw.MISSING_DIMENSIONS:
            names = ("height", "width", "length", "weight")
            for missing in rng.sample(names, rng.randint(1, len(names))):
                setattr(sku.dimension, missing, 0)
        elif flaw is Flaw.BAD_EAN:
            body = sku.ean[:-1]
            sku.ean = body + str((gtin_check_digit(body) + rng.randint(1, 9)) % 10)
        elif flaw is Flaw.OUTSIDE_TRADE_POLICY:
            other = self.sales_channel + 1
            sku.sales_channels = {other}
            # the trade policy's price stays (price tables are apart from assortments)
            sku.prices.setdefault(other, sku.prices[self.sales_channel])
        elif flaw is Flaw.NO_PRICE:
            sku.prices.pop(self.sales_channel, None)
        return draft


def _assign(
    rng: random.Random, drafts: list[_Draft], kinds: list[Flaw], target: int
) -> list[tuple[Flaw, int, Sku | None]]:
    """Which flaw goes to which draft (and SKU): kinds in turn until ``target`` SKUs have one.

    A product flaw takes a whole product no SKU of which is flawed yet; a SKU flaw takes one
    SKU of a product without a product flaw. Candidates pass by once (cursors), since what
    rules one out (taken, or too big for what is left of the count) never reverts.
    """
    order = list(range(len(drafts)))
    rng.shuffle(order)
    skus = [(i, sku) for i in order for sku in drafts[i].skus]
    product_flawed: set[int] = set()
    sku_flawed: set[int] = set()
    plan: list[tuple[Flaw, int, Sku | None]] = []
    product_cursor = sku_cursor = 0
    count, turn, idle = 0, 0, 0
    while count < target and kinds and idle < len(kinds):
        flaw = kinds[turn % len(kinds)]
        turn += 1
        if flaw in PRODUCT_FLAWS:
            while product_cursor < len(order) and (
                order[product_cursor] in sku_flawed
                or len(drafts[order[product_cursor]].skus) > target - count
            ):
                product_cursor += 1
            if product_cursor == len(order):
                idle += 1
                continue
            pick = order[product_cursor]
            product_cursor += 1
            product_flawed.add(pick)
            plan.append((flaw, pick, None))
            count += len(drafts[pick].skus)
        else:
            while sku_cursor < len(skus) and skus[sku_cursor][0] in product_flawed:
                sku_cursor += 1
            if sku_cursor == len(skus):
                idle += 1
                continue
            index, sku = skus[sku_cursor]
            sku_cursor += 1
            sku_flawed.add(index)
            plan.append((flaw, index, sku))
            count += 1
        idle = 0
    return plan


def generate_catalog(
    seed: int,
    sku_count: int,
    *,
    flaw_rate: float = 0.2,
    flaws: Collection[Flaw] | None = None,
    account: str = "sandbox",
    sales_channel: int = 1,
    rules: MarketplaceRules | None = None,
) -> SandboxCatalog:
    """A catalog of ``sku_count`` SKUs for ``account``, the same for the same arguments.

    ``flaw_rate`` (0 to 1) is the share of SKUs with a flaw; ``flaws`` limits the kinds
    used (default: all of ``Flaw``). Clean SKUs are active, in ``sales_channel`` with a
    price there, and pass every registration rule of the sample marketplace.
    """
    if sku_count < 0:
        raise ValueError("sku_count must be 0 or more")
    if not 0 <= flaw_rate <= 1:
        raise ValueError("flaw_rate must be between 0 and 1")
    rules = rules or MarketplaceRules()
    generator = _Generator(seed, sales_channel, rules)
    drafts = generator.drafts(sku_count)
    kinds = [flaw for flaw in Flaw if flaws is None or flaw in flaws]
    plan = _assign(generator.rng, drafts, kinds, round(sku_count * flaw_rate))
    for flaw, index, sku in plan:
        drafts[index] = generator.apply(flaw, drafts[index], sku)
    return SandboxCatalog(
        account,
        [draft.product for draft in drafts],
        [sku for draft in drafts for sku in draft.skus],
        sales_channel=sales_channel,
        seed=seed,
        rules=rules,
    )
