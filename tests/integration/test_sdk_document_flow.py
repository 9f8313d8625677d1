"""The SDK document's flow, sent byte for byte as the .NET SentOffers.SDK serializes it.

Newtonsoft.Json writes PascalCase property names, null for every unset property, numbers
for ``Price`` and ``Inventory``, and ``DateTime.Now.ToString()`` dates. The price and
inventory flows of the document report an ``Info`` log stating ``Synchronized`` (after a
first log stating ``Sending``), then close the interaction: the offer ends Synced.
"""

from __future__ import annotations

from tests.integration.conftest import FEED, Api, Store

JSON = {"Content-Type": "application/json; charset=utf-8"}


def send(api: Api, path: str, raw: str) -> dict[str, object]:
    response = api.request("POST", path, content=raw.encode(), headers=JSON)
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


def log_path(sku: str, interaction: str) -> str:
    return f"/feeds/{FEED}/skus/{sku}/interactions/{interaction}/logs"


def open_raw(api: Api, sku: str, origin: str, context: str) -> str:
    interaction = send(
        api,
        f"/feeds/{FEED}/skus/{sku}/interactions",
        '{"StartDate":"11/24/2026 5:30:12 AM","Source":"seller",'
        f'"Origin":"{origin}","Context":"{context}"}}',
    )
    return str(interaction["id"])


def sending_log(api: Api, sku: str, interaction: str) -> None:
    """The document's Create Log example: Info, stating Sending."""
    send(
        api,
        log_path(sku, interaction),
        '{"Description":"sdk test","Type":"Info","Agent":"channel",'
        '"Date":"11/24/2026 5:30:13 AM","Evidence":null,"Data":{"Status":"Sending",'
        '"Price":null,"Currency":null,"Inventory":null},"Errors":null}',
    )


def price_update(api: Api, sku: str) -> None:
    """The document's price update: Info, Synchronized, a number for the price; closed."""
    price = open_raw(api, sku, "price", "sync")
    sending_log(api, sku, price)
    info = send(
        api,
        log_path(sku, price),
        '{"Description":"SKU enviado ao marketplace","Type":"Info","Agent":"channel",'
        '"Date":"11/24/2026 5:30:14 AM","Evidence":null,'
        '"Data":{"Status":"Synchronized","Price":124,"Currency":"BRL","Inventory":null},'
        '"Errors":null}',
    )
    assert (info["type"], info["data"]) == (
        "information",
        {"price": "124", "currency": "BRL", "status": "synced"},
    )
    assert api.close(sku, price).status_code == 204


def test_sdk_document_flow_as_the_dotnet_sdk_serializes_it(api: Api, store: Store) -> None:
    assert api.channel(vendor="vtex", name="Amazon").status_code == 201
    feed = send(api, "/feeds", '{"Id":"vtex.amazon","SalesChannel":"1","AffiliatedId":"AFL"}')
    assert feed == {"account": "acme", "id": FEED, "affiliateId": "AFL", "salesChannel": "1"}

    # Price update: Sending while the interaction is open, Synced once it is closed.
    price = open_raw(api, "1", "price", "sync")
    sending_log(api, "1", price)
    assert store.status("1") == "sending"
    send(
        api,
        log_path("1", price),
        '{"Description":"SKU enviado ao marketplace","Type":"Info","Agent":"channel",'
        '"Date":"11/24/2026 5:30:14 AM","Evidence":null,'
        '"Data":{"Status":"Synchronized","Price":124,"Currency":"BRL","Inventory":null},'
        '"Errors":null}',
    )
    assert store.status("1") == "sending"
    assert api.close("1", price).status_code == 204
    assert store.status("1") == "synced"

    # Inventory update, in an interaction of its own origin.
    inventory = open_raw(api, "1", "inventory", "sync")
    sending_log(api, "1", inventory)
    assert store.status("1") == "sending"
    send(
        api,
        log_path("1", inventory),
        '{"Description":"SKU enviado ao marketplace","Type":"Info","Agent":"channel",'
        '"Date":"11/24/2026 5:30:15 AM","Data":{"Status":"Synchronized","Inventory":8}}',
    )
    assert api.close("1", inventory).status_code == 204
    offer = store.offer("1")
    assert (offer["status"], offer["price"], offer["currency"], offer["inventory"]) == (
        "synced",
        "124",
        "BRL",
        "8",
    )
    assert store.open_errors("1") == []

    # Catalog integration: a failure with its errors.
    catalog = open_raw(api, "2", "catalog", "setup")
    failure = send(
        api,
        log_path("2", catalog),
        '{"Description":"SKU enviado ao marketplace","Type":"Failure","Agent":"channel",'
        '"Date":"11/24/2026 5:30:13 AM","Evidence":null,"Data":null,'
        '"Errors":[{"Code":"CTLG-006-001","ExternalCode":"284692","Title":"Description '
        'includes HTML","Description":"HTML is not allowed","ClosableOrigins":["catalog"]}]}',
    )
    assert failure["type"] == "failure"
    assert api.close("2", catalog).status_code == 204
    assert store.status("2") == "error"
    assert [e["error_code_id"] for e in store.open_errors("2")] == ["CTLG-006"]

    # A price update stating Synchronized cannot close a catalog error: still Error.
    price_update(api, "2")
    assert store.status("2") == "error"
    assert [e["error_code_id"] for e in store.open_errors("2")] == ["CTLG-006"]

    # The unified contract, as in the document: a notification changes no status.
    unified = send(
        api,
        f"/feeds/{FEED}/skus/1/interactions/unified",
        '{"Date":"2021-10-15T16:20:19.561754Z","Source":"channel","Origin":"catalog",'
        '"Context":"ongoing","Description":"Info example","Type":"Info","Agent":"My-Conector",'
        '"Evidence":null,"Data":null,"Errors":null}',
    )
    assert (unified["state"], unified["result"]) == ("closed", "notification")
    assert unified["startDate"] == "2021-10-15T16:20:19.561Z"
    assert (unified["offerStatus"], store.status("1")) == ("synced", "synced")

    # A catalog success fixes the description error: the offer is synced.
    fixed = send(
        api,
        f"/feeds/{FEED}/skus/2/interactions/unified",
        '{"Date":"2021-10-16T10:00:00.0000000Z","Source":"seller","Origin":"catalog",'
        '"Context":"ongoing","Description":"SKU atualizado","Type":"Success","Agent":"channel"}',
    )
    assert fixed["offerStatus"] == "synced"
    assert store.open_errors("2") == []

    # Deactivate feed (DeleteFeedAsync).
    assert api.request("DELETE", f"/feeds/{FEED}").status_code == 204
