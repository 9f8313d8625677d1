"""The Offer Management SDK document's whole flow, written with the Python SDK.

Each step is the .NET example of the SDK document (``CreateFeedAsync``, ``CreateInteractionAsync``,
``CreateLogAsync``, ``CreateUnifiedInteractionAsync``, ``DeleteFeedAsync``) as a connector writes
it in Python; the last steps show what the Python SDK adds (the interaction context manager).

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
    FeedCreate,
    InteractionCreate,
    KnownCode,
    LogCreate,
    LogData,
    SentOffersCredentials,
    UnifiedCreate,
    error_entry,
)

FEED = "vtex.marketplace"


def step(title: str, detail: object = "") -> None:
    print(f"- {title}" + (f": {detail}" if detail != "" else ""))


async def document_flow(client: AsyncSentOffersClient, account: str) -> None:
    # The channel exists on VTEX; here it is registered once (409 when it already is).
    channel = await client.create_channel(
        account, {"vendor": "vtex", "name": "marketplace", "logo": "https://example.com/logo.png"}
    )
    if not channel.ok and channel.status_code != 409:
        channel.raise_for_errors()

    # Create feed.
    feed = await client.create_feed(
        account, FeedCreate(id=FEED, sales_channel="1", affiliate_id="AFL")
    )
    if feed.status_code == 409:  # active already: a connector updates it instead
        await client.update_feed(account, FEED, {"salesChannel": "1", "affiliateId": "AFL"})
    else:
        step("feed created", feed.raise_for_errors().id)

    # Create interaction: an inventory sync the seller started.
    interaction = (
        await client.create_interaction(
            account,
            FEED,
            "1",
            InteractionCreate.model_validate(
                {
                    "startDate": datetime.now(UTC),
                    "source": "seller",
                    "origin": "inventory",
                    "context": "sync",  # the .NET word for an ongoing update
                }
            ),
        )
    ).raise_for_errors()
    step("interaction opened", interaction.id)

    # Create log.
    log = LogCreate.model_validate(
        {
            "description": "sdk test",
            "type": "Info",
            "agent": "channel",
            "date": datetime.now(UTC),
            "data": {"status": "Sending"},
        }
    )
    created = await client.create_log(account, FEED, "1", interaction.id, log)
    step("log created", created.raise_for_errors().id)

    # Inventory update: the channel took the new stock.
    inventory = LogCreate.model_validate(
        {
            "description": "SKU enviado ao marketplace",
            "type": "Success",
            "agent": "channel",
            "data": LogData(status="Synchronized", inventory="8"),
        }
    )
    (await client.create_log(account, FEED, "1", interaction.id, inventory)).raise_for_errors()
    (await client.close_interaction(account, FEED, "1", interaction.id)).raise_for_errors()
    offer = (await client.get_offer(account, FEED, "1")).raise_for_errors()
    expect(offer.status == "synced", f"SKU 1 synced after its inventory update, got {offer.status}")
    step("SKU 1 after the inventory update", offer.status)

    # Catalog integration that fails: the channel refused the description.
    catalog = (
        await client.create_interaction(
            account, FEED, "2", {"source": "channel", "origin": "catalog", "context": "setup"}
        )
    ).raise_for_errors()
    failure = LogCreate.model_validate(
        {
            "description": "SKU enviado ao marketplace",
            "type": "Failure",
            "agent": "channel",
            "errors": [
                error_entry(
                    KnownCode.CTLG_006, "001", description="Description over 4,000 characters"
                )
            ],
        }
    )
    (await client.create_log(account, FEED, "2", catalog.id, failure)).raise_for_errors()
    (await client.close_interaction(account, FEED, "2", catalog.id)).raise_for_errors()
    offer = (await client.get_offer(account, FEED, "2")).raise_for_errors()
    codes = [error.code for error in offer.open_errors]
    expect(offer.status == "error" and codes == ["CTLG-006-001"], f"SKU 2: {offer.status} {codes}")
    step("SKU 2 after the refused description", f"{offer.status} {codes}")

    # Price update, through the unified contract: open, log and close in one call.
    unified = UnifiedCreate.model_validate(
        {
            "date": "2021-10-15T16:20:19.561754Z",
            "source": "channel",
            "origin": "price",
            "context": "ongoing",
            "description": "SKU enviado ao marketplace",
            "type": "Success",
            "agent": "My-Conector",
            "data": {"status": "Synchronized", "price": 124, "currency": "BRL"},
        }
    )
    answer = (
        await client.create_unified_interaction(account, FEED, "3", unified)
    ).raise_for_errors()
    expect(answer.offer_status == "synced", f"SKU 3 synced, got {answer.offer_status}")
    step("SKU 3 price through the unified contract", answer.offer_status)

    # Beyond the .NET SDK: an interaction that closes itself, and logs what went wrong.
    async with client.interaction(account, FEED, "2", origin="catalog", agent="My-Conector") as it:
        await it.info("Sending the shorter description")
        await it.success("Description accepted", data={"status": "synced"})
    offer = (await client.get_offer(account, FEED, "2")).raise_for_errors()
    expect(offer.status == "synced", f"SKU 2 synced once fixed, got {offer.status}")
    step("SKU 2 after the fix", offer.status)

    try:
        async with client.interaction(account, FEED, "4", origin="catalog") as it:
            await it.info("Sending the title")
            raise ChannelError(
                "Title over 60 characters",
                code=KnownCode.CTLG_009,
                response='{"message": "title: max 60 characters"}',
            )
    except ChannelError:
        pass
    offer = (await client.get_offer(account, FEED, "4")).raise_for_errors()
    expect(offer.status == "error", f"SKU 4 in error, got {offer.status}")
    step("SKU 4 after the channel refused its title", [e.code for e in offer.open_errors])

    # Deactivate feed: its offers leave the seller's views; nothing is deleted.
    (await client.delete_feed(account, FEED)).raise_for_errors()
    hidden = (await client.list_offers(account, channel=FEED)).raise_for_errors()
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
    credentials = SentOffersCredentials.from_env()
    async with AsyncSentOffersClient(args.url, credentials=credentials) as client:
        await document_flow(client, args.account)
    print("the SDK document's flow ran to the end")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
