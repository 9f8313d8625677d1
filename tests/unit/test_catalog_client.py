"""The VTEX Catalog client: the SKU-by-id body mapped to an offer's metadata, and the answers
it treats as unknown, refused or worth retrying (through a mock transport, no network)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sentoffers.server.features.catalog.client import (
    CatalogAuthError,
    CatalogClient,
    CatalogUnavailable,
    SkuMetadata,
    sku_metadata_from_json,
)
from sentoffers.server.settings import Settings

# Cut from the example of GET /api/catalog_system/pvt/sku/stockkeepingunitbyid/{skuId}.
EXAMPLE: dict[str, Any] = {
    "Id": 2001773,
    "ProductId": 2001426,
    "NameComplete": "Tabela de Basquete",
    "ComplementName": "",
    "ProductName": "Tabela de Basquete",
    "SkuName": "Tabela de Basquete",
    "ImageUrl": "http://ambienteqa.vteximg.com.br/arquivos/ids/168952-55-55/7508800GG.jpg",
    "BrandId": "2000018",
    "BrandName": "MARCA ARGOLO TESTE",
    "Categories": [],
    "CategoriesFullPath": ["/1/10/", "/1/", "/20/"],
    "Images": [
        {
            "ImageUrl": "http://ambienteqa.vteximg.com.br/arquivos/ids/168952/7508800GG.jpg",
            "ImageName": "",
            "FileId": 168952,
        }
    ],
    "ProductCategoryIds": "/59/",
    "ProductGlobalCategoryId": None,
    "ProductCategories": {"59": "Brinquedos"},
}


def test_the_documented_example_maps_to_every_field() -> None:
    assert sku_metadata_from_json(EXAMPLE) == SkuMetadata(
        name="Tabela de Basquete",
        image="http://ambienteqa.vteximg.com.br/arquivos/ids/168952-55-55/7508800GG.jpg",
        product_id="2001426",
        brand="MARCA ARGOLO TESTE",
        category="Brinquedos",
    )


def test_the_category_is_the_last_of_the_products_category_path() -> None:
    body = {
        "ProductCategoryIds": "/1/10/",
        "ProductCategories": {"10": "Televisores", "1": "Eletrônicos"},
    }
    assert sku_metadata_from_json(body).category == "Televisores"
    # Without a usable path, the last category listed.
    body = {"ProductCategoryIds": "/99/", "ProductCategories": {"1": "Eletrônicos", "10": "TV"}}
    assert sku_metadata_from_json(body).category == "TV"
    assert sku_metadata_from_json({"ProductCategories": {}}).category is None


def test_names_and_images_fall_back_in_order() -> None:
    body = {
        "NameComplete": "  ",
        "SkuName": "Azul 42",
        "ProductName": "Tênis",
        "ImageUrl": None,
        "Images": [{"ImageUrl": "https://img/1.jpg"}, {"ImageUrl": "https://img/2.jpg"}],
    }
    metadata = sku_metadata_from_json(body)
    assert (metadata.name, metadata.image) == ("Azul 42", "https://img/1.jpg")
    assert sku_metadata_from_json({"ProductName": "Tênis"}).name == "Tênis"


def test_missing_blank_or_odd_values_become_none() -> None:
    assert sku_metadata_from_json({}) == SkuMetadata()
    body = {
        "NameComplete": 12,
        "BrandName": "",
        "ProductId": True,
        "ImageUrl": ["x"],
        "Images": "none",
        "ProductCategories": ["x"],
    }
    assert sku_metadata_from_json(body) == SkuMetadata(name="12")


def test_values_are_kept_within_the_offer_columns() -> None:
    body = {
        "NameComplete": "n" * 5000,
        "BrandName": "b" * 500,
        "ImageUrl": "https://img/" + "x" * 5000,
        "ProductId": "9" * 200,
        "ProductCategoryIds": "/1/",
        "ProductCategories": {"1": "c" * 500},
    }
    metadata = sku_metadata_from_json(body)
    assert metadata.name == "n" * 1000
    assert metadata.brand == "b" * 200
    assert metadata.category == "c" * 200
    # A cut URL or id would be wrong: too long, it is left out.
    assert (metadata.image, metadata.product_id) == (None, None)


Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, **kwargs: Any) -> CatalogClient:
    return CatalogClient(
        "https://{account}.vtexcommercestable.com.br/",
        app_key="key",
        app_token="token",
        transport=httpx.MockTransport(handler),
        **kwargs,
    )


def test_fetch_sku_sends_the_credentials_to_the_accounts_catalog() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=EXAMPLE)

    with _client(handler) as client:
        assert client.fetch_sku("acme", "2001773") == sku_metadata_from_json(EXAMPLE)
    [request] = seen
    assert str(request.url) == (
        "https://acme.vtexcommercestable.com.br"
        "/api/catalog_system/pvt/sku/stockkeepingunitbyid/2001773"
    )
    assert request.headers["X-VTEX-API-AppKey"] == "key"
    assert request.headers["X-VTEX-API-AppToken"] == "token"
    assert request.headers["Accept"] == "application/json"


def test_an_odd_sku_id_stays_inside_the_path() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(404)

    with _client(handler) as client:
        assert client.fetch_sku("acme", "../a b?c") is None
    assert seen == ["/api/catalog_system/pvt/sku/stockkeepingunitbyid/..%2Fa%20b%3Fc"]


def test_an_account_that_is_not_a_vtex_account_name_is_refused() -> None:
    with _client(lambda _: httpx.Response(200, json=EXAMPLE)) as client:
        for account in ("evil.com/x#", "a b", "", "x@y"):
            with pytest.raises(ValueError, match="account"):
                client.fetch_sku(account, "1")


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(404, text="SKU not found"), None),
        (httpx.Response(200, content=b"null"), None),
        (httpx.Response(401), CatalogAuthError),
        (httpx.Response(403, json={"error": "forbidden"}), CatalogAuthError),
        (httpx.Response(429), CatalogUnavailable),
        (httpx.Response(500), CatalogUnavailable),
        (httpx.Response(503, text="<html>down</html>"), CatalogUnavailable),
        (httpx.Response(302, headers={"Location": "https://login"}), CatalogUnavailable),
        (httpx.Response(200, text="<html>not json</html>"), CatalogUnavailable),
        (httpx.Response(200, json=[EXAMPLE]), CatalogUnavailable),
    ],
)
def test_answers_that_are_not_a_sku(response: httpx.Response, expected: Any) -> None:
    with _client(lambda _: response) as client:
        if expected is None:
            assert client.fetch_sku("acme", "1") is None
        else:
            with pytest.raises(expected):
                client.fetch_sku("acme", "1")


def test_transport_errors_and_timeouts_are_worth_retrying() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    with _client(handler) as client, pytest.raises(CatalogUnavailable, match="ConnectTimeout"):
        client.fetch_sku("acme", "1")


def test_from_settings_needs_a_base_url() -> None:
    with pytest.raises(ValueError, match="CATALOG_BASE_URL"):
        CatalogClient.from_settings(Settings(environment="test"))
    settings = Settings(
        environment="test",
        catalog_base_url="https://{account}.vtexcommercestable.com.br",
        catalog_app_key="k",
        catalog_app_token="t",
    )
    with CatalogClient.from_settings(settings) as client:
        assert client.sku_url("acme", "7") == (
            "https://acme.vtexcommercestable.com.br"
            "/api/catalog_system/pvt/sku/stockkeepingunitbyid/7"
        )


def test_the_base_url_setting_must_be_http() -> None:
    with pytest.raises(ValueError, match="catalog_base_url"):
        Settings(environment="test", catalog_base_url="ftp://catalog")
    assert Settings(environment="test", catalog_base_url="").catalog_base_url == ""
