"""The SDK document's .NET calls, ported as written, against the real service on both clients.

A client without credentials of its own, as the .NET ``SentOffersClient`` is: every call
passes the connector's credentials in last position, as the .NET methods take them (here
a mapping with the .NET class's property names), and the bodies are the document's DTOs
under their .NET names.
"""

from __future__ import annotations

from sentoffers.client import (
    CreateLogDataRequest,
    CreateLogDTO,
    CreateLogErrorRequest,
    FeedCreateDTO,
    InteractionContextType,
    InteractionCreateDTO,
    InteractionSourceType,
    OriginType,
    UnifiedInteractionCreateDTO,
)
from tests.e2e.client_flows import Sdk, flow
from tests.e2e.service_process import ServiceProcess, create_key

LOGO = "https://example.com/logo.png"
NOW = "12/3/2026 2:05:09 PM"
"""``DateTime.Now.ToString()`` in the en-US culture."""


def log(
    data: CreateLogDataRequest, description: str = "SKU enviado ao marketplace"
) -> CreateLogDTO:
    return CreateLogDTO(Description=description, Type="Info", Agent="channel", Date=NOW, Data=data)


def opening(origin: str, context: str = InteractionContextType.sync) -> InteractionCreateDTO:
    return InteractionCreateDTO(
        StartDate=NOW, Source=InteractionSourceType.seller, Origin=origin, Context=context
    )


@flow(
    "create_channel",
    "create_feed",
    "create_interaction",
    "create_log",
    "close_interaction",
    "get_offer",
    "create_unified_interaction",
    "delete_feed",
)
async def test_the_documents_calls_with_their_credentials_last_end_synced(
    sdk: Sdk, account: str, shared_service: ServiceProcess
) -> None:
    key = create_key(shared_service.database_url, account)
    credentials = {"AppKey": key.app_key, "AppToken": key.app_token}
    client = sdk.with_credentials(None)
    denied = await client.get_offer(account, "vtex.nowhere", "1")
    assert denied.status_code == 401

    channel = await client.create_channel(
        account, {"Vendor": "vtex", "Name": account, "Logo": LOGO}, credentials
    )
    feed_id = channel.raise_for_errors().id
    feed = await client.create_feed(
        account, FeedCreateDTO(Id=feed_id, SalesChannel="1", AffiliatedId="AFL"), credentials
    )
    assert (feed.raise_for_errors().affiliate_id, feed.data.sales_channel) == ("AFL", "1")

    for origin, data in [
        (OriginType.price, CreateLogDataRequest(Status="Synchronized", Price=124, Currency="BRL")),
        (OriginType.inventory, CreateLogDataRequest(Status="Synchronized", Inventory=8)),
    ]:
        opened = await client.create_interaction(
            account, feed_id, "1", opening(origin), credentials
        )
        interaction = opened.raise_for_errors()
        assert (interaction.origin, interaction.context) == (origin, "ongoing")
        sending = log(CreateLogDataRequest(Status="Sending"), "sdk test")
        created = await client.create_log(
            account, feed_id, "1", interaction.id, sending, credentials
        )
        assert created.raise_for_errors().data == {"status": "sending"}
        offer = (await client.get_offer(account, feed_id, "1", credentials)).raise_for_errors()
        assert offer.status == "sending"
        synchronized = await client.create_log(
            account, feed_id, "1", interaction.id, log(data), credentials
        )
        synchronized.raise_for_errors()
        closed = await client.close_interaction(account, feed_id, "1", interaction.id, credentials)
        assert closed.status_code == 204
        offer = (await client.get_offer(account, feed_id, "1", credentials)).raise_for_errors()
        assert offer.status == "synced", f"after the {origin} update"

    assert (offer.price, offer.currency, offer.inventory) == ("124", "BRL", "8")

    # The catalog integration that fails, then the unified contract that fixes it.
    catalog = await client.create_interaction(
        account,
        feed_id,
        "2",
        opening(OriginType.catalog, InteractionContextType.setup),
        credentials,
    )
    failure = CreateLogDTO(
        Description="SKU enviado ao marketplace",
        Type="Failure",
        Agent="channel",
        Date=NOW,
        Errors=[CreateLogErrorRequest(Code="CTLG-006-001", Description="HTML is not allowed")],
    )
    catalog_id = catalog.raise_for_errors().id
    logged = await client.create_log(account, feed_id, "2", catalog_id, failure, credentials)
    assert logged.raise_for_errors().type == "failure"
    closed = await client.close_interaction(account, feed_id, "2", catalog_id, credentials)
    assert closed.status_code == 204
    offer = (await client.get_offer(account, feed_id, "2", credentials)).raise_for_errors()
    assert (offer.status, [e.code for e in offer.open_errors]) == ("error", ["CTLG-006-001"])
    fixed = UnifiedInteractionCreateDTO(
        Date="2021-10-15T16:20:19.561754Z",
        Source="channel",
        Origin="catalog",
        Context="ongoing",
        Description="SKU atualizado",
        Type="Success",
        Agent="My-Conector",
    )
    unified = await client.create_unified_interaction(account, feed_id, "2", fixed, credentials)
    assert unified.raise_for_errors().offer_status == "synced"

    assert (await client.delete_feed(account, feed_id, credentials)).status_code == 204
    gone = await client.get_offer(account, feed_id, "1", credentials)
    assert gone.status_code == 404
