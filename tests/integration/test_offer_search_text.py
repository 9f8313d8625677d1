"""The search box: part of a name, a SKU or an offer id, through each store's index."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Api

BODY = {"source": "seller", "origin": "catalog", "context": "ongoing", "type": "success"}


def named(api: Api, sku: str, **data: Any) -> None:
    assert api.unified(sku, {**BODY, "data": data}).status_code == 201


def skus(api: Api, q: str) -> list[str]:
    response = api.get("/offers", params={"q": q, "sort": "skuId:asc"})
    assert response.status_code == 200, response.text
    return [item["skuId"] for item in response.json()["items"]]


@pytest.fixture
def catalog(ready: Api) -> Api:
    named(ready, "1001", name="Camiseta Azul Básica", externalOfferId="MLB-77")
    named(ready, "1002", name="Tênis de corrida 100% algodão")
    named(ready, "2001", name="Boné_preto")
    return ready


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("camiseta", ["1001"]),
        ("AZUL BÁS", ["1001"]),
        ("mlb-77", ["1001"]),
        ("100", ["1001", "1002"]),
        ("100%", ["1002"]),
        ("é_p", ["2001"]),
        ("e_p", []),
        ("20", ["2001"]),
        ("vtex.amazon", ["1001", "1002", "2001"]),
        ('"x', []),
    ],
)
def test_search_box_matches_part_of_name_sku_or_offer_id(
    catalog: Api, q: str, expected: list[str]
) -> None:
    assert skus(catalog, q) == expected


def test_search_follows_a_renamed_offer(catalog: Api) -> None:
    named(catalog, "1001", name="Camisa Verde")
    assert skus(catalog, "camiseta") == []
    assert skus(catalog, "verde") == ["1001"]
