"""The sandbox catalog: deterministic from its seed, flawed in the share asked for, each SKU
tagged with what is wrong with it, and mutations that say what they changed."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from sentoffers.sandbox import (
    PRODUCT_FLAWS,
    REGISTRATION_FLAWS,
    CatalogChange,
    Flaw,
    MarketplaceRules,
    SandboxCatalog,
    Sku,
    generate_catalog,
    valid_gtin,
)
from sentoffers.sandbox._data import MARKETPLACE_CATEGORIES
from sentoffers.sandbox.rules import gtin_check_digit, listing_errors
from sentoffers.sandbox.vtex_json import product_json, sku_context
from tests.support.sandbox import listing_from_sku

# One registration rule code (at least) that each registration flaw breaks.
EXPECTED_CODES = {
    Flaw.LONG_DESCRIPTION: "description.too_long",
    Flaw.HTML_DESCRIPTION: "description.html",
    Flaw.MISSING_IMAGES: "images.required",
    Flaw.MISSING_DIMENSIONS: "dimensions.",
    Flaw.BAD_EAN: "ean.invalid",
    Flaw.UNMAPPED_CATEGORY: "category.unknown",
}


def _everything(catalog: SandboxCatalog) -> list[Any]:
    rendered = []
    for sku_id in catalog.sku_ids():
        sku = catalog.sku(sku_id)
        assert sku is not None
        product = catalog.product(sku.product_id)
        assert product is not None
        rendered.append((sku, product, sorted(catalog.flaws(sku_id))))
    return rendered


def test_the_same_seed_gives_the_same_catalog() -> None:
    assert _everything(generate_catalog(42, 150)) == _everything(generate_catalog(42, 150))


def test_another_seed_gives_another_catalog() -> None:
    assert _everything(generate_catalog(42, 150)) != _everything(generate_catalog(43, 150))


def test_the_catalog_has_the_sku_count_asked_for_in_products_of_several_skus() -> None:
    catalog = generate_catalog(7, 300)
    sizes = Counter(sku.product_id for sku in map(catalog.sku, catalog.sku_ids()) if sku)
    assert len(catalog.sku_ids()) == 300
    assert max(sizes.values()) > 1
    assert len(catalog.product_ids()) == len(sizes)


def test_the_flawed_share_is_the_rate_asked_for_and_each_flawed_sku_has_one_flaw() -> None:
    catalog = generate_catalog(11, 400, flaw_rate=0.25)
    flaws = {sku_id: catalog.flaws(sku_id) for sku_id in catalog.sku_ids()}
    flawed = [found for found in flaws.values() if found]
    assert len(flawed) == 100
    assert all(len(found) == 1 for found in flawed)
    assert set(catalog.flaw_counts()) == set(Flaw)


def test_a_product_flaw_marks_every_sku_of_its_product() -> None:
    catalog = generate_catalog(5, 300, flaw_rate=0.4)
    for product_id in catalog.product_ids():
        kinds = [catalog.flaws(sku.id) & PRODUCT_FLAWS for sku in catalog.skus_of(product_id)]
        assert all(found == kinds[0] for found in kinds)


def test_no_flaw_rate_means_a_clean_catalog() -> None:
    catalog = generate_catalog(3, 120, flaw_rate=0.0)
    assert not catalog.flaw_counts()


def test_the_flaw_kinds_can_be_limited() -> None:
    catalog = generate_catalog(3, 120, flaw_rate=0.3, flaws={Flaw.BAD_EAN, Flaw.NO_PRICE})
    assert set(catalog.flaw_counts()) == {Flaw.BAD_EAN, Flaw.NO_PRICE}
    assert sum(catalog.flaw_counts().values()) == 36


def test_bad_eans_have_a_wrong_check_digit_and_good_ones_a_right_one() -> None:
    catalog = generate_catalog(9, 200, flaw_rate=0.3)
    for sku_id in catalog.sku_ids():
        sku = catalog.sku(sku_id)
        assert sku is not None
        assert len(sku.ean) == 13
        assert sku.ean.isdigit()
        assert valid_gtin(sku.ean) is (Flaw.BAD_EAN not in catalog.flaws(sku_id))
    assert valid_gtin("4006381333931")
    assert not valid_gtin("4006381333932")
    assert gtin_check_digit("400638133393") == 1


def test_the_marketplace_rules_refuse_exactly_the_skus_with_registration_flaws() -> None:
    catalog = generate_catalog(21, 250, flaw_rate=0.35)
    rules = MarketplaceRules()
    for sku_id in catalog.sku_ids():
        sku = catalog.sku(sku_id)
        assert sku is not None
        product = catalog.product(sku.product_id)
        assert product is not None
        listing = listing_from_sku(sku_context(sku, product, "http://x"), product_json(product))
        codes = [error.code for error in listing_errors(listing, rules, MARKETPLACE_CATEGORIES)]
        expected = catalog.flaws(sku_id) & REGISTRATION_FLAWS
        assert bool(codes) is bool(expected), (sku_id, codes, expected)
        for flaw in expected:
            assert any(code.startswith(EXPECTED_CODES[flaw]) for code in codes), (flaw, codes)


def test_long_descriptions_exceed_the_marketplace_limit() -> None:
    catalog = generate_catalog(2, 200, flaw_rate=0.3, flaws={Flaw.LONG_DESCRIPTION})
    long_ones = [s for s in catalog.sku_ids() if Flaw.LONG_DESCRIPTION in catalog.flaws(s)]
    assert long_ones
    for sku_id in long_ones:
        sku = catalog.sku(sku_id)
        product = catalog.product(sku.product_id) if sku else None
        assert product is not None
        assert len(product.description) > 4000


def _recorded(catalog: SandboxCatalog) -> list[list[CatalogChange]]:
    seen: list[list[CatalogChange]] = []
    catalog.subscribe(seen.append)
    return seen


def _clean_sku(catalog: SandboxCatalog) -> int:
    return next(sku_id for sku_id in catalog.sku_ids() if not catalog.flaws(sku_id))


def test_a_price_change_sets_the_price_and_says_price_modified() -> None:
    catalog = generate_catalog(1, 30)
    seen = _recorded(catalog)
    sku_id = _clean_sku(catalog)
    catalog.set_price(sku_id, 12345, list_price=15000)
    sku = catalog.sku(sku_id)
    assert sku is not None
    assert sku.prices[1].price == 12345
    assert sku.prices[1].list_price == 15000
    [change] = seen[0]
    assert (change.sku_id, change.price_modified, change.stock_modified) == (sku_id, True, False)
    assert not change.sku_modified
    assert not change.removed_from


def test_a_stock_change_says_stock_modified() -> None:
    catalog = generate_catalog(1, 30)
    seen = _recorded(catalog)
    sku_id = _clean_sku(catalog)
    catalog.set_stock(sku_id, 0)
    assert seen[0][0].stock_modified
    assert not seen[0][0].price_modified
    sku = catalog.sku(sku_id)
    assert sku is not None
    assert sku.stock == 0


def test_deactivating_a_product_notifies_each_of_its_skus_as_inactive() -> None:
    catalog = generate_catalog(1, 60)
    seen = _recorded(catalog)
    product_id = max(catalog.product_ids(), key=lambda p: len(catalog.skus_of(p)))
    catalog.deactivate_product(product_id)
    skus = [sku.id for sku in catalog.skus_of(product_id)]
    assert [change.sku_id for change in seen[0]] == skus
    assert all(not change.is_active and change.sku_modified for change in seen[0])
    assert all(Flaw.INACTIVE_PRODUCT in catalog.flaws(sku_id) for sku_id in skus)


def test_removing_a_sku_from_the_trade_policy_flags_it() -> None:
    catalog = generate_catalog(1, 30)
    seen = _recorded(catalog)
    sku_id = _clean_sku(catalog)
    catalog.remove_from_trade_policy(sku_id)
    assert seen[0][0].removed_from == frozenset({1})
    assert catalog.flaws(sku_id) == {Flaw.OUTSIDE_TRADE_POLICY}
    assert sku_id not in catalog.sku_ids_in(1)
    catalog.add_to_trade_policy(sku_id)
    assert not catalog.flaws(sku_id)


def test_fixing_a_flaw_clears_its_tag() -> None:
    catalog = generate_catalog(4, 100, flaw_rate=0.5, flaws={Flaw.HTML_DESCRIPTION})
    sku_id = next(s for s in catalog.sku_ids() if catalog.flaws(s))
    sku = catalog.sku(sku_id)
    assert sku is not None
    catalog.update_product(sku.product_id, description="Plain words, no tags.")
    assert not catalog.flaws(sku_id)


def test_unknown_ids_and_bad_values_are_refused() -> None:
    catalog = generate_catalog(1, 5)
    with pytest.raises(KeyError):
        catalog.set_stock(1, 3)
    with pytest.raises(ValueError, match="price"):
        catalog.set_price(catalog.sku_ids()[0], 0)
    with pytest.raises(ValueError, match="flaw_rate"):
        generate_catalog(1, 5, flaw_rate=1.5)


def _sku(catalog: SandboxCatalog, sku_id: int) -> Sku:
    sku = catalog.sku(sku_id)
    assert sku is not None
    return sku


def test_a_sku_read_is_an_equal_copy_that_changes_nothing_when_changed() -> None:
    catalog = generate_catalog(5, 30)
    sku_id = catalog.sku_ids()[0]
    before = _sku(catalog, sku_id)
    copy = _sku(catalog, sku_id)
    assert copy == before
    assert copy is not before
    copy.images.clear()
    copy.dimension.height = 0
    copy.sales_channels.add(99)
    copy.prices[1].price = 1
    assert _sku(catalog, sku_id) == before

    found = catalog.sku_and_product(sku_id)
    assert found is not None
    sku, product = found
    assert (sku, product) == (before, catalog.product(before.product_id))
    active = product.is_active
    product.is_active = not active
    again = catalog.product(before.product_id)
    assert again is not None
    assert again.is_active is active


def test_the_indexes_follow_the_skus_of_each_product_and_trade_policy() -> None:
    catalog = generate_catalog(6, 60, flaw_rate=0.3)
    by_product = {p: [s.id for s in catalog.skus_of(p)] for p in catalog.product_ids()}
    assert sorted(s for ids in by_product.values() for s in ids) == catalog.sku_ids()
    for product_id, ids in by_product.items():
        assert all(_sku(catalog, s).product_id == product_id for s in ids)
    in_policy = catalog.sku_ids_in(1)
    assert in_policy == [s for s in catalog.sku_ids() if 1 in _sku(catalog, s).sales_channels]
    catalog.remove_from_trade_policy(in_policy[0])
    assert in_policy[0] not in catalog.sku_ids_in(1)
    catalog.add_to_trade_policy(in_policy[0])
    assert catalog.sku_ids_in(1) == in_policy
