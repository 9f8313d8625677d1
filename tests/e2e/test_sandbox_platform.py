"""The emulated VTEX platform over real HTTP, held against vtex-platform-subset.openapi.json:
the same paths and parameters, bodies valid against the reference's schemas and carrying every
key of its examples, AppKey/AppToken checks, accounts by path prefix or host, a simulation of
a whole lot of items in one request, and the requests counted per endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sentoffers.sandbox import (
    Flaw,
    PlatformKey,
    Sandbox,
    VtexPlatform,
    generate_catalog,
    serve_in_thread,
    start_sandbox,
)
from sentoffers.server.features.catalog.client import CatalogClient
from tests.support.sandbox import load_reference, reference_example, response_validator

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

SKU_BY_ID = "/api/catalog_system/pvt/sku/stockkeepingunitbyid/{skuId}"
SKU_IDS = "/api/catalog_system/pvt/sku/stockkeepingunitidsbysaleschannel"
PRODUCT = "/api/catalog/pvt/product/{productId}"
PRODUCTGET = "/api/catalog_system/pvt/products/productget/{productId}"
SIMULATION = "/api/checkout/pub/orderForms/simulation"


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return load_reference()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(seed=17, sku_count=80, flaw_rate=0.4) as running:
        yield running


@pytest.fixture
def vtex(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.account_url(), headers=sandbox.vtex_headers()) as client:
        yield client


def _first(sandbox: Sandbox, flaw: Flaw | None) -> int:
    catalog = sandbox.catalog
    for sku_id in catalog.sku_ids():
        flaws = catalog.flaws(sku_id)
        if (flaw is None and not flaws) or (flaw is not None and flaw in flaws):
            return sku_id
    raise AssertionError(f"no SKU with {flaw}")


def _parameters(
    operation: dict[str, Any], components: dict[str, Any]
) -> set[tuple[str, str, bool]]:
    """Path and query parameters as (name, in, required), ``$ref``s resolved.

    Headers are left out: the reference declares Content-Type and Accept, which the platform
    does not require (VTEX does not either).
    """
    found = set()
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = components["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
        if parameter["in"] in ("path", "query"):
            found.add((parameter["name"], parameter["in"], bool(parameter.get("required"))))
    return found


def test_the_platform_serves_exactly_the_reference_paths_and_parameters(
    sandbox: Sandbox, reference: dict[str, Any]
) -> None:
    ours = sandbox.platform.app.openapi()["paths"]
    components = reference["components"]
    assert set(ours) == set(reference["paths"])
    for path, methods in reference["paths"].items():
        assert set(ours[path]) == set(methods), path
        for method, operation in methods.items():
            assert _parameters(ours[path][method], {}) == _parameters(operation, components), (
                path,
                method,
            )


def _assert_valid(validator: Any, body: Any) -> None:
    errors = [str(error) for error in validator.iter_errors(body)]
    assert not errors, errors[:5]


def _missing_keys(example: Any, body: Any, where: str = "") -> list[str]:
    """Keys of the reference example (nested, first list item) absent from ``body``."""
    if isinstance(example, dict) and isinstance(body, dict):
        missing = [f"{where}.{key}" for key in example if key not in body]
        for key, value in example.items():
            if key in body and not (isinstance(value, dict) and not value):
                missing += _missing_keys(value, body[key], f"{where}.{key}")
        return missing
    if isinstance(example, list) and isinstance(body, list) and example and body:
        return _missing_keys(example[0], body[0], f"{where}[]")
    return []


# Maps and lists whose example keys are data, not fields (cluster ids, category ids).
FREE_FORM = ("PositionsInClusters", "ProductClusterNames", "ProductClusterHighlights")


def test_sku_by_id_matches_the_reference_schema_and_example(
    sandbox: Sandbox, vtex: httpx.Client, reference: dict[str, Any]
) -> None:
    validator = response_validator(reference, SKU_BY_ID, "get")
    example = reference_example(reference, SKU_BY_ID, "get")
    example = {k: v for k, v in example.items() if k not in FREE_FORM}
    example.pop("ProductCategories")
    for sku_id in sandbox.catalog.sku_ids()[:40]:
        response = vtex.get(f"/api/catalog_system/pvt/sku/stockkeepingunitbyid/{sku_id}?sc=1")
        assert response.status_code == 200
        body = response.json()
        _assert_valid(validator, body)
        assert not _missing_keys(example, body)
        assert body["Id"] == sku_id


def test_sku_by_id_shows_the_flaws_as_vtex_would(sandbox: Sandbox, vtex: httpx.Client) -> None:
    path = "/api/catalog_system/pvt/sku/stockkeepingunitbyid/"
    no_images = vtex.get(f"{path}{_first(sandbox, Flaw.MISSING_IMAGES)}").json()
    assert no_images["Images"] == []
    assert no_images["ImageUrl"] == ""
    outside = vtex.get(f"{path}{_first(sandbox, Flaw.OUTSIDE_TRADE_POLICY)}?sc=1").json()
    assert 1 not in outside["SalesChannels"]
    inactive = vtex.get(f"{path}{_first(sandbox, Flaw.INACTIVE_PRODUCT)}").json()
    assert inactive["IsProductActive"] is False
    clean = vtex.get(f"{path}{_first(sandbox, None)}").json()
    assert clean["Images"]
    assert clean["Dimension"]["weight"] > 0
    assert 1 in clean["SalesChannels"]
    image = httpx.get(clean["ImageUrl"])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/svg+xml"


def test_products_match_the_reference_schema_and_example(
    sandbox: Sandbox, vtex: httpx.Client, reference: dict[str, Any]
) -> None:
    inactive_sku = sandbox.catalog.sku(_first(sandbox, Flaw.INACTIVE_PRODUCT))
    assert inactive_sku is not None
    for path in (PRODUCT, PRODUCTGET):
        template = path.replace("{productId}", "{}")
        validator = response_validator(reference, path, "get")
        example = reference_example(reference, path, "get")
        for product_id in sandbox.catalog.product_ids()[:20]:
            body = vtex.get(template.format(product_id)).json()
            _assert_valid(validator, body)
            assert set(example) <= set(body), set(example) - set(body)
        inactive = vtex.get(template.format(inactive_sku.product_id)).json()
        assert inactive["IsActive"] is False
    productget = vtex.get(f"/api/catalog_system/pvt/products/productget/{inactive_sku.product_id}")
    assert productget.json()["ListStoreId"]


def test_sku_ids_by_sales_channel_pages_through_the_trade_policy(
    sandbox: Sandbox, vtex: httpx.Client, reference: dict[str, Any]
) -> None:
    validator = response_validator(reference, SKU_IDS, "get")
    pages: list[int] = []
    for page in range(1, 50):
        response = vtex.get(SKU_IDS, params={"sc": 1, "page": page, "pageSize": 7})
        _assert_valid(validator, response.json())
        if not response.json():
            break
        pages += response.json()
    assert pages == sandbox.catalog.sku_ids_in(1)
    assert _first(sandbox, Flaw.OUTSIDE_TRADE_POLICY) not in pages
    everything = vtex.get(SKU_IDS, params={"sc": 1, "pageSize": 1000, "onlyAssigned": "false"})
    assert everything.json() == sandbox.catalog.sku_ids()
    assert vtex.get(SKU_IDS).status_code == 400


def test_the_simulation_gives_prices_availability_and_stock(
    sandbox: Sandbox, reference: dict[str, Any]
) -> None:
    catalog = sandbox.catalog
    clean = [s for s in catalog.sku_ids() if not catalog.flaws(s)][:6]
    refused = [_first(sandbox, flaw) for flaw in (Flaw.NO_PRICE, Flaw.OUTSIDE_TRADE_POLICY)]
    refused += [_first(sandbox, Flaw.INACTIVE_PRODUCT), 99]
    catalog.set_stock(clean[0], 0)
    items = [{"id": str(s), "quantity": 1, "seller": "1"} for s in clean + refused]
    response = httpx.post(
        f"{sandbox.platform_url}{SIMULATION}",
        params={"sc": 1, "RnbBehavior": 0},
        json={"items": items, "country": "BRA"},
    )
    assert response.status_code == 200
    body = response.json()
    _assert_valid(response_validator(reference, SIMULATION, "post"), body)
    example = reference_example(reference, SIMULATION, "post")
    assert set(example) <= set(body), set(example) - set(body)
    assert set(example["items"][0]) <= set(body["items"][0])
    assert [item["id"] for item in body["items"]] == [str(s) for s in clean]
    assert len(body["messages"]) == len(refused)
    for item, logistics in zip(body["items"], body["logisticsInfo"], strict=True):
        sku = catalog.sku(int(item["id"]))
        assert sku is not None
        price = sku.prices[1]
        assert (item["price"], item["listPrice"], item["sellingPrice"]) == (
            price.price,
            price.list_price,
            price.selling_price,
        )
        assert logistics["stockBalance"] == sku.stock
        assert item["availability"] == ("available" if sku.stock else "withoutStock")
    assert body["items"][0]["availability"] == "withoutStock"


def test_the_simulation_needs_no_credentials_and_the_catalog_does(sandbox: Sandbox) -> None:
    url = sandbox.platform_url
    sku_id = sandbox.catalog.sku_ids()[0]
    simulation = httpx.post(f"{url}{SIMULATION}", json={"items": [{"id": sku_id, "quantity": 1}]})
    assert simulation.status_code == 200
    sku_path = f"{url}/api/catalog_system/pvt/sku/stockkeepingunitbyid/{sku_id}"
    assert httpx.get(sku_path).status_code == 401
    wrong = {**sandbox.vtex_headers(), "X-VTEX-API-AppToken": "nope"}
    assert httpx.get(sku_path, headers=wrong).status_code == 401
    only_key = {"X-VTEX-API-AppKey": sandbox.config.app_key}
    response = httpx.get(sku_path, headers=only_key)
    assert response.status_code == 401
    assert "Message" in response.json()
    assert httpx.get(sku_path, headers=sandbox.vtex_headers()).status_code == 200


def test_unknown_skus_and_products_are_404(vtex: httpx.Client) -> None:
    assert vtex.get("/api/catalog_system/pvt/sku/stockkeepingunitbyid/1").status_code == 404
    assert vtex.get("/api/catalog/pvt/product/1").status_code == 404
    assert vtex.get("/api/catalog/pvt/product/abc").status_code == 404
    assert vtex.get("/api/catalog_system/pvt/products/productget/1").status_code == 404


@pytest.fixture(scope="module")
def two_accounts() -> Iterator[tuple[str, dict[str, str], dict[str, str]]]:
    catalogs = {
        "storea": generate_catalog(1, 10, account="storea"),
        "storeb": generate_catalog(2, 12, account="storeb"),
    }
    keys = [
        PlatformKey("key-all", "token-all"),
        PlatformKey("key-a", "token-a", frozenset({"storea"})),
    ]
    server = serve_in_thread(VtexPlatform(catalogs, keys).app)
    try:
        yield (
            server.url,
            {"X-VTEX-API-AppKey": "key-all", "X-VTEX-API-AppToken": "token-all"},
            {"X-VTEX-API-AppKey": "key-a", "X-VTEX-API-AppToken": "token-a"},
        )
    finally:
        server.stop()


def test_the_account_comes_from_the_path_prefix_or_the_host(
    two_accounts: tuple[str, dict[str, str], dict[str, str]],
) -> None:
    url, every, _ = two_accounts
    ids = "/api/catalog_system/pvt/sku/stockkeepingunitidsbysaleschannel?sc=1&onlyAssigned=false"
    assert len(httpx.get(f"{url}/storeb{ids}", headers=every).json()) == 12
    assert len(httpx.get(f"{url}/storea{ids}", headers=every).json()) == 10
    assert len(httpx.get(f"{url}{ids}", headers=every).json()) == 10  # the first account
    by_host = {**every, "Host": "storeb.vtexcommercestable.com.br"}
    assert len(httpx.get(f"{url}{ids}", headers=by_host).json()) == 12
    assert httpx.get(f"{url}/nostore{ids}", headers=every).status_code == 404


def test_a_key_of_another_account_is_forbidden(
    two_accounts: tuple[str, dict[str, str], dict[str, str]],
) -> None:
    url, _, only_a = two_accounts
    ids = "/api/catalog_system/pvt/sku/stockkeepingunitidsbysaleschannel?sc=1"
    assert httpx.get(f"{url}/storea{ids}", headers=only_a).status_code == 200
    forbidden = httpx.get(f"{url}/storeb{ids}", headers=only_a)
    assert forbidden.status_code == 403
    assert "storeb" in forbidden.json()["Message"]


def test_the_services_catalog_client_reads_the_sandbox(sandbox: Sandbox) -> None:
    sku_id = _first(sandbox, None)
    sku = sandbox.catalog.sku(sku_id)
    assert sku is not None
    product = sandbox.catalog.product(sku.product_id)
    assert product is not None
    client = CatalogClient(
        sandbox.catalog_base_url,
        app_key=sandbox.config.app_key,
        app_token=sandbox.config.app_token,
    )
    with client:
        metadata = client.fetch_sku(sandbox.catalog.account, str(sku_id))
        assert client.fetch_sku(sandbox.catalog.account, "1") is None
    assert metadata is not None
    assert metadata.product_id == str(product.id)
    assert metadata.brand == product.brand
    assert metadata.category == product.category
    assert metadata.name is not None
    assert product.name in metadata.name


def test_the_control_routes_change_the_catalog(sandbox: Sandbox, vtex: httpx.Client) -> None:
    sku_id = _first(sandbox, None)
    assert vtex.post(f"/_sandbox/skus/{sku_id}/stock", json={"quantity": 7}).status_code == 200
    assert vtex.post(f"/_sandbox/skus/{sku_id}/price", json={"price": 999}).status_code == 200
    summary = vtex.get(f"/_sandbox/skus/{sku_id}").json()
    assert summary["stock"] == 7
    assert summary["prices"]["1"]["price"] == 999
    assert vtex.post("/_sandbox/skus/1/stock", json={"quantity": 1}).status_code == 404
    assert vtex.post("/_sandbox/initial-load").status_code == 409  # no affiliate endpoint
    assert httpx.get(f"{sandbox.platform_url}/_sandbox/skus").status_code == 401
    listed = vtex.get("/_sandbox/skus").json()
    assert len(listed) == len(sandbox.catalog.sku_ids())
    assert {flaw for sku in listed for flaw in sku["flaws"]} <= {str(f) for f in Flaw}


def _expected_item(sandbox: Sandbox, sku_id: int, sales_channel: int) -> Any:
    """What the simulation must say of a SKU: ``None`` (left out) or its price and stock."""
    sku = sandbox.catalog.sku(sku_id)
    assert sku is not None
    product = sandbox.catalog.product(sku.product_id)
    assert product is not None
    price = sku.prices.get(sales_channel)
    sold = sku.is_active and product.is_active and sales_channel in sku.sales_channels
    if not sold or price is None:
        return None
    return (price.price, price.list_price, price.selling_price, sku.stock)


@pytest.mark.parametrize("sales_channel", [1, 2])
def test_the_simulation_answers_each_item_of_a_whole_lot(
    sandbox: Sandbox, reference: dict[str, Any], sales_channel: int
) -> None:
    catalog = sandbox.catalog
    sku_ids = catalog.sku_ids()
    quantities = {sku_id: 1 + index % 3 for index, sku_id in enumerate(sku_ids)}
    items = [{"id": str(s), "quantity": quantities[s], "seller": "1"} for s in sku_ids]
    items += [{"id": "99", "quantity": 1, "seller": "1"}]  # unknown
    items += [{"id": str(sku_ids[0]), "quantity": 1, "seller": "2"}]  # another seller's
    response = httpx.post(
        f"{sandbox.platform_url}{SIMULATION}",
        params={"sc": sales_channel},
        json={"items": items, "country": "BRA"},
    )
    assert response.status_code == 200
    body = response.json()
    _assert_valid(response_validator(reference, SIMULATION, "post"), body)

    expected = {s: _expected_item(sandbox, s, sales_channel) for s in sku_ids}
    sold = [s for s in sku_ids if expected[s] is not None]
    left_out = [str(s) for s in sku_ids if expected[s] is None] + ["99", str(sku_ids[0])]
    assert sold
    assert len(sold) < len(sku_ids)
    assert [item["id"] for item in body["items"]] == [str(s) for s in sold]
    assert [message["fields"]["id"] for message in body["messages"]] == left_out
    assert len(body["logisticsInfo"]) == len(sold)
    total = 0
    for index, (item, logistics) in enumerate(
        zip(body["items"], body["logisticsInfo"], strict=True)
    ):
        sku_id = int(item["id"])
        price, list_price, selling_price, stock = expected[sku_id]
        quantity = quantities[sku_id]
        assert item["requestIndex"] == sku_ids.index(sku_id)
        assert (item["price"], item["listPrice"], item["sellingPrice"]) == (
            price,
            list_price,
            selling_price,
        )
        assert item["quantity"] == logistics["quantity"] == quantity
        assert item["availability"] == ("available" if stock >= quantity else "withoutStock")
        assert (logistics["itemIndex"], logistics["stockBalance"]) == (index, stock)
        total += selling_price * quantity
    assert body["totals"] == [{"id": "Items", "name": "Total dos Itens", "value": total}]


def test_the_platform_counts_requests_per_endpoint_and_status() -> None:
    with start_sandbox(seed=3, sku_count=4, flaw_rate=0.0) as sandbox:
        headers = sandbox.vtex_headers()
        sku_id = sandbox.catalog.sku_ids()[0]
        with httpx.Client(base_url=sandbox.account_url(), headers=headers) as vtex:
            assert vtex.get(f"{SKU_BY_ID.format(skuId=sku_id)}?sc=1").status_code == 200
            assert vtex.get(SKU_BY_ID.format(skuId=1)).status_code == 404
            assert vtex.get(PRODUCT.format(productId=1001)).status_code == 200
            assert vtex.get(SKU_IDS, params={"sc": 1}).status_code == 200
            assert vtex.post(SIMULATION, json={"items": [{"id": sku_id}]}).status_code == 200
            assert vtex.get("/_sandbox/skus").status_code == 200  # not counted
            stats = vtex.get("/_sandbox/stats").json()
        assert httpx.get(f"{sandbox.platform_url}{SKU_BY_ID}".format(skuId=sku_id)).is_error
        assert stats["requests"] == {
            f"GET {SKU_BY_ID}": 2,
            f"GET {PRODUCT}": 1,
            f"GET {SKU_IDS}": 1,
            f"POST {SIMULATION}": 1,
        }
        assert stats["statuses"] == {"200": 4, "404": 1}
        assert stats["notifications"] is None  # no affiliate endpoint
        after = httpx.get(f"{sandbox.platform_url}/_sandbox/stats", headers=headers).json()
        assert after["requests"][f"GET {SKU_BY_ID}"] == 3
        assert after["statuses"]["401"] == 1
