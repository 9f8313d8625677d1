"""The Offer Management SDK document's whole flow, written with the Python SDK.

Each step is a .NET example of the SDK document, ported call by call: ``CreateFeedAsync``,
``CreateInteractionAsync``, ``CreateLogAsync`` (the Sending log, the price and inventory
updates stating ``Synchronized``, the catalog failure, an integration error),
``CreateUnifiedInteractionAsync`` and ``DeleteFeedAsync``, each with the caller's
credentials in last position and the DTOs under their .NET names. The last steps show what
the Python SDK adds (the interaction context manager).

Run it against a service::

    SENTOFFERS_APP_KEY=... SENTOFFERS_APP_TOKEN=... \\
        uv run python examples/sdk_document_flow.py --url http://127.0.0.1:8000 --account acme

It prints each step and exits with status 1 if the service answers something unexpected.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from sentoffers.client import (
    AsyncSentOffersClient,
    ChannelError,
    CreateLogDataRequest,
    CreateLogDTO,
    CreateLogErrorRequest,
    FeedCreateDTO,
    InteractionContextType,
    InteractionCreateDTO,
    InteractionSourceType,
    KnownCode,
    OriginType,
    SentOffersCredentials,
    UnifiedInteractionCreateDTO,
)

FEED = "vtex.marketplace"


def step(title: str, detail: object = "") -> None:
    print(f"- {title}" + (f": {detail}" if detail != "" else ""))


def dotnet_now() -> str:
    """``DateTime.UtcNow.ToString()`` in the en-US culture: ``12/3/2026 2:05:09 PM``.

    The service reads a date without a zone as UTC, so a port sends UTC rather than the
    local time ``DateTime.Now`` gives.
    """
    now = datetime.now(UTC)
    hour = now.hour % 12 or 12
    return f"{now.month}/{now.day}/{now.year} {hour}:{now:%M:%S} {'PM' if now.hour >= 12 else 'AM'}"


async def status_of(
    client: AsyncSentOffersClient, account: str, sku: str, credentials: SentOffersCredentials
) -> str:
    return (await client.get_offer(account, FEED, sku, credentials)).raise_for_errors().status


async def synchronized_update(
    client: AsyncSentOffersClient,
    account: str,
    sku: str,
    origin: str,
    data: CreateLogDataRequest,
    credentials: SentOffersCredentials,
) -> str:
    """A price or inventory update as the document writes it: an interaction of the flow's
    origin, a first log stating ``Sending``, the update stating ``Synchronized``, the close.
    Answers the interaction's id."""
    offer = await client.get_offer(account, FEED, sku, credentials)
    before = offer.data.status if offer.ok and offer.data else None
    interaction = (
        await client.create_interaction(
            account,
            FEED,
            sku,
            InteractionCreateDTO(
                StartDate=dotnet_now(),
                Source=InteractionSourceType.seller,
                Origin=origin,
                Context=InteractionContextType.sync,
            ),
            credentials,
        )
    ).raise_for_errors()

    # Create log: the document's first log, stating Sending.
    sending = CreateLogDTO(
        Description="sdk test",
        Type="Info",
        Agent="channel",
        Date=dotnet_now(),
        Data=CreateLogDataRequest(Status="Sending"),
    )
    (
        await client.create_log(account, FEED, sku, interaction.id, sending, credentials)
    ).raise_for_errors()
    # Sending while the interaction is open, unless an open error keeps it in Error.
    status = await status_of(client, account, sku, credentials)
    expected = "error" if before == "error" else "sending"
    expect(status == expected, f"SKU {sku} {expected} while its {origin} is sent, got {status}")

    update = CreateLogDTO(
        Description="SKU enviado ao marketplace",
        Type="Info",
        Agent="channel",
        Date=dotnet_now(),
        Data=data,
    )
    (
        await client.create_log(account, FEED, sku, interaction.id, update, credentials)
    ).raise_for_errors()
    # Closing the interaction is what makes the update visible to the seller.
    (
        await client.close_interaction(account, FEED, sku, interaction.id, credentials)
    ).raise_for_errors()
    return interaction.id


async def document_flow(
    client: AsyncSentOffersClient, account: str, credentials: SentOffersCredentials
) -> None:
    # The channel exists on VTEX; here it is registered once (409 when it already is).
    channel = await client.create_channel(
        account,
        {"vendor": "vtex", "name": "marketplace", "logo": "https://example.com/logo.png"},
        credentials,
    )
    if not channel.ok and channel.status_code != 409:
        channel.raise_for_errors()

    # Create feed.
    feed = await client.create_feed(
        account,
        FeedCreateDTO(Id=FEED, SalesChannel="1", AffiliatedId="AFL"),
        credentials,
    )
    if feed.status_code == 409:  # active already: a connector updates it instead
        update = {"SalesChannel": "1", "AffiliatedId": "AFL"}
        (await client.update_feed(account, FEED, update, credentials)).raise_for_errors()
    else:
        step("feed created", feed.raise_for_errors().id)

    # Price update, then inventory update, each in an interaction of its own origin.
    price = CreateLogDataRequest(Status="Synchronized", Price=124, Currency="BRL")
    await synchronized_update(client, account, "1", OriginType.price, price, credentials)
    offer = (await client.get_offer(account, FEED, "1", credentials)).raise_for_errors()
    expect(offer.status == "synced", f"SKU 1 synced after its price update, got {offer.status}")
    step("SKU 1 after the price update", f"{offer.status} {offer.price} {offer.currency}")

    inventory = CreateLogDataRequest(Status="Synchronized", Inventory=8)
    await synchronized_update(client, account, "1", OriginType.inventory, inventory, credentials)
    offer = (await client.get_offer(account, FEED, "1", credentials)).raise_for_errors()
    expect(
        (offer.status, offer.price, offer.inventory) == ("synced", "124", "8"),
        f"SKU 1 synced with price 124 and inventory 8, got {offer.status} "
        f"{offer.price} {offer.inventory}",
    )
    step("SKU 1 after the inventory update", f"{offer.status} inventory {offer.inventory}")

    # Catalog integration that fails: the channel refused the description.
    catalog = (
        await client.create_interaction(
            account,
            FEED,
            "2",
            InteractionCreateDTO(
                StartDate=dotnet_now(),
                Source=InteractionSourceType.channel,
                Origin=OriginType.catalog,
                Context=InteractionContextType.setup,
            ),
            credentials,
        )
    ).raise_for_errors()
    failure = CreateLogDTO(
        Description="SKU enviado ao marketplace",
        Type="Failure",
        Agent="channel",
        Date=dotnet_now(),
        Errors=[
            CreateLogErrorRequest(
                Code="CTLG-006-001", Description="Description over 4,000 characters"
            )
        ],
    )
    (
        await client.create_log(account, FEED, "2", catalog.id, failure, credentials)
    ).raise_for_errors()
    (await client.close_interaction(account, FEED, "2", catalog.id, credentials)).raise_for_errors()
    offer = (await client.get_offer(account, FEED, "2", credentials)).raise_for_errors()
    codes = [error.code for error in offer.open_errors]
    expect(offer.status == "error" and codes == ["CTLG-006-001"], f"SKU 2: {offer.status} {codes}")
    step("SKU 2 after the refused description", f"{offer.status} {codes}")

    # Integration error: the channel refused a price; the next price update clears it.
    refused = (
        await client.create_interaction(
            account,
            FEED,
            "3",
            InteractionCreateDTO(
                StartDate=dotnet_now(),
                Source=InteractionSourceType.seller,
                Origin=OriginType.price,
                Context=InteractionContextType.sync,
            ),
            credentials,
        )
    ).raise_for_errors()
    error = CreateLogDTO(
        Description="Price below the channel's floor",
        Type="Failure",
        Agent="channel",
        Date=dotnet_now(),
        Errors=[CreateLogErrorRequest(Code="PRICE-001", Description="Price below the floor")],
    )
    (await client.create_log(account, FEED, "3", refused.id, error, credentials)).raise_for_errors()
    (await client.close_interaction(account, FEED, "3", refused.id, credentials)).raise_for_errors()
    status = await status_of(client, account, "3", credentials)
    expect(status == "error", f"SKU 3 in error after the refused price, got {status}")
    step("SKU 3 after the refused price", status)
    fixed_price = CreateLogDataRequest(Status="Synchronized", Price=130, Currency="BRL")
    await synchronized_update(client, account, "3", OriginType.price, fixed_price, credentials)
    status = await status_of(client, account, "3", credentials)
    expect(status == "synced", f"SKU 3 synced after the next price update, got {status}")
    step("SKU 3 after the next price update", status)

    # Unified contract: open, log and close in one call. An Info log that states no status
    # is a notification: SKU 1 stays as its last update left it.
    unified = UnifiedInteractionCreateDTO(
        Date="2021-10-15T16:20:19.561754Z",
        Source="channel",
        Origin="catalog",
        Context="ongoing",
        Description="Info example",
        Type="Info",
        Agent="My-Conector",
    )
    answer = (
        await client.create_unified_interaction(account, FEED, "1", unified, credentials)
    ).raise_for_errors()
    expect(
        (answer.result, answer.offer_status) == ("notification", "synced"),
        f"SKU 1 notified and still synced, got {answer.result} {answer.offer_status}",
    )
    step("SKU 1 after the unified contract", f"{answer.result}, {answer.offer_status}")

    # Beyond the .NET SDK: an interaction that closes itself, and logs what went wrong.
    async with client.interaction(
        account, FEED, "2", origin="catalog", agent="My-Conector", credentials=credentials
    ) as it:
        await it.info("Sending the shorter description")
        await it.success("Description accepted", data={"status": "synced"})
    status = await status_of(client, account, "2", credentials)
    expect(status == "synced", f"SKU 2 synced once fixed, got {status}")
    step("SKU 2 after the fix", status)

    try:
        async with client.interaction(
            account, FEED, "4", origin="catalog", credentials=credentials
        ) as it:
            await it.info("Sending the title")
            raise ChannelError(
                "Title over 60 characters",
                code=KnownCode.CTLG_009,
                response='{"message": "title: max 60 characters"}',
            )
    except ChannelError:
        pass
    offer = (await client.get_offer(account, FEED, "4", credentials)).raise_for_errors()
    expect(offer.status == "error", f"SKU 4 in error, got {offer.status}")
    step("SKU 4 after the channel refused its title", [e.code for e in offer.open_errors])

    # Deactivate feed: its offers leave the seller's views; nothing is deleted.
    (await client.delete_feed(account, FEED, credentials)).raise_for_errors()
    hidden = (
        await client.list_offers(account, channel=FEED, credentials=credentials)
    ).raise_for_errors()
    expect(hidden.paging.total == 0, f"no offer shows once deactivated, got {hidden.paging.total}")
    step("feed deactivated", f"{hidden.paging.total} offers show")


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"unexpected: {message}")


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="the service (default: $SENTOFFERS_URL)")
    parser.add_argument("--account", default="acme")
    args = parser.parse_args(argv)
    # As in the .NET SDK, the client holds no credentials: each call passes its own.
    credentials = SentOffersCredentials.from_env()
    async with AsyncSentOffersClient(args.url) as client:
        await document_flow(client, args.account, credentials)
    print("the SDK document's flow ran to the end")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
