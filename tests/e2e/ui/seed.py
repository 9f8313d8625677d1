"""Test data for the browser tests, made through the public API with the Python SDK.

``seed_channels`` registers the two marketplaces every account can sell on (channels are
global); ``seed_shop`` fills one seller's account with an offer in each status, an offer
with many interactions for paging and enough synced offers for a second page of the list.
The other helpers make the smaller, single-purpose accounts the live, security and expiry
tests work in, so the counts of the shop never move under another test.
"""

from __future__ import annotations

import base64
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass, field

from sentoffers.client import (
    AccountClient,
    FeedCreate,
    InteractionCreate,
    KnownCode,
    LogCreate,
    SentOffersClient,
    UnifiedCreate,
    error_entry,
    evidence,
)
from tests.e2e.service_process import ApiKey, create_key


def _svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _logo(letter: str, colour: str) -> str:
    return _svg_data_uri(
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="12" fill="{colour}"/>'
        f'<text x="32" y="44" font-size="36" text-anchor="middle" fill="#fff" '
        f'font-family="sans-serif">{letter}</text></svg>'
    )


def _product_image(colour: str) -> str:
    return _svg_data_uri(
        '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="80" viewBox="0 0 80 80">'
        f'<rect width="80" height="80" fill="#eee"/><circle cx="40" cy="40" r="26" '
        f'fill="{colour}"/></svg>'
    )


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    name: str


NETSHOES = Channel("vtex.netshoes", "Netshoes")
MAGALU = Channel("vtex.magalu", "Magalu")
CHANNEL_LOGOS = {NETSHOES: _logo("N", "#5a2d82"), MAGALU: _logo("M", "#0b5fbf")}
AGENT = "acme-connector"


@dataclass(frozen=True, slots=True)
class Seller:
    """An account of its own for a test that writes, with a viewer key to sign in."""

    account: str
    viewer: ApiKey


@dataclass(frozen=True, slots=True)
class SeededOffer:
    feed_id: str
    sku_id: str
    name: str
    status: str
    """The status badge's text: ``Synced``, ``Sending``, ``Error`` or ``Unavailable``."""

    @property
    def path(self) -> str:
        return f"/offers/{self.feed_id}/{self.sku_id}"


@dataclass(slots=True)
class Shop:
    """The seller's account the list, details and accessibility tests read (never write)."""

    account: str
    viewer: ApiKey
    synced: SeededOffer
    error: SeededOffer
    sending: SeededOffer
    unavailable: SeededOffer
    busy: SeededOffer
    """A synced offer with ``BUSY_INTERACTIONS`` interactions, for paging."""
    nameless: SeededOffer
    """A synced offer no log named."""
    failure_interaction: str
    """The interaction of ``error`` whose failure log carries both errors and evidence."""
    success_interaction: str
    """The unified interaction that made ``synced`` synced."""
    expired_interaction: str
    """The first interaction of ``unavailable``, purged: its page answers 410."""
    fillers: list[SeededOffer] = field(default_factory=list)

    @property
    def offers(self) -> list[SeededOffer]:
        named = [self.synced, self.error, self.sending, self.unavailable, self.busy]
        return [*named, self.nameless, *self.fillers]

    def count(self, status: str) -> int:
        return sum(offer.status == status for offer in self.offers)


BUSY_INTERACTIONS = 23
FILLERS = 26
CTLG_ERROR_TITLE = "Description too long"
CTLG_ERROR_DESCRIPTION = "The channel accepts descriptions of up to 4000 characters."
NTMAP_ERROR_TITLE = "Unexpected channel answer"
NTMAP_ERROR_DESCRIPTION = "The channel answered 500 Internal Server Error."
FAILURE_DESCRIPTION = "The channel refused the product"
EVIDENCE_REQUEST = 'POST /v1/products HTTP/1.1\n{"sku": "1002", "title": "Red hiking boot"}'
EVIDENCE_RESPONSE = 'HTTP/1.1 422\n{"errors": [{"code": "E-DESC", "message": "too long"}]}'


def seed_channels(client: SentOffersClient) -> None:
    """The two marketplaces, with logos served from data: URIs (no internet needed)."""
    for channel, logo in CHANNEL_LOGOS.items():
        vendor, _, _ = channel.id.partition(".")
        created = client.create_channel(
            "seed", {"vendor": vendor, "name": channel.name, "logo": logo}
        ).raise_for_errors()
        assert created.id == channel.id, created


def activate_feeds(shop: AccountClient, *channels: Channel) -> None:
    for channel in channels:
        shop.create_feed(
            FeedCreate(id=channel.id, affiliate_id="AFL", sales_channel="1")
        ).raise_for_errors()


def _metadata(name: str, brand: str, category: str, colour: str) -> dict[str, str]:
    return {"name": name, "brand": brand, "category": category, "image": _product_image(colour)}


def unified(
    origin: str, log_type: str, description: str, data: dict[str, str], context: str = "ongoing"
) -> UnifiedCreate:
    return UnifiedCreate.model_validate(
        {
            "source": "channel",
            "origin": origin,
            "context": context,
            "type": log_type,
            "description": description,
            "agent": AGENT,
            "data": data,
        }
    )


def seed_shop(client: SentOffersClient, database_url: str, account: str) -> Shop:
    """The seller's account: one offer per status, a busy offer and a second page of offers."""
    shop = client.for_account(account)
    activate_feeds(shop, NETSHOES, MAGALU)

    synced = SeededOffer(NETSHOES.id, "1001", "Blue running shoe", "Synced")
    success = shop.create_unified_interaction(
        synced.feed_id,
        synced.sku_id,
        unified(
            "price",
            "success",
            "Price accepted by the channel",
            {
                "status": "synced",
                "price": "124.90",
                "salesPrice": "99.90",
                "currency": "BRL",
                "inventory": "7",
                "externalOfferId": "NS-1001",
                "productId": "501",
                **_metadata(synced.name, "Acme Sports", "Running shoes", "#1565c0"),
            },
        ),
    ).raise_for_errors()

    error = SeededOffer(NETSHOES.id, "1002", "Red hiking boot", "Error")
    failure_interaction = _seed_failure(shop, error)

    sending = SeededOffer(NETSHOES.id, "1003", "Green trail sandal", "Sending")
    opened = shop.create_interaction(
        sending.feed_id,
        sending.sku_id,
        InteractionCreate.model_validate(
            {"source": "seller", "origin": "catalog", "context": "setup"}
        ),
    ).raise_for_errors()
    shop.create_log(
        sending.feed_id,
        sending.sku_id,
        opened.id,
        LogCreate.model_validate(
            {
                "type": "information",
                "description": "Sending the product to the channel",
                "agent": AGENT,
                "data": _metadata(sending.name, "Trailhead", "Sandals", "#2e7d32"),
            }
        ),
    ).raise_for_errors()

    unavailable = SeededOffer(NETSHOES.id, "1004", "Grey wool sock", "Unavailable")
    # Its first interaction is purged below: its history then names an expired interaction.
    expired = shop.create_unified_interaction(
        unavailable.feed_id,
        unavailable.sku_id,
        unified("inventory", "success", "Stock accepted", {"status": "synced", "inventory": "0"}),
    ).raise_for_errors()
    shop.create_unified_interaction(
        unavailable.feed_id,
        unavailable.sku_id,
        unified(
            "inventory",
            "information",
            "The channel paused the offer",
            {
                "status": "unavailable",
                **_metadata(unavailable.name, "Acme Basics", "Socks", "#777"),
            },
        ),
    ).raise_for_errors()

    busy = SeededOffer(MAGALU.id, "2001", "Yellow tennis racket", "Synced")
    _seed_busy(shop, busy)

    nameless = SeededOffer(MAGALU.id, "2002", "", "Synced")
    shop.create_unified_interaction(
        nameless.feed_id,
        nameless.sku_id,
        unified("inventory", "success", "Stock accepted", {"status": "synced", "inventory": "3"}),
    ).raise_for_errors()

    fillers = [
        SeededOffer(MAGALU.id, f"30{n:02d}", f"Striped cotton tee {n:02d}", "Synced")
        for n in range(1, FILLERS + 1)
    ]
    shop.create_unified_batch(
        MAGALU.id,
        [
            {
                "skuId": offer.sku_id,
                **unified(
                    "catalog",
                    "success",
                    "Product published",
                    {"status": "synced", **_metadata(offer.name, "Acme Basics", "Tees", "#c62828")},
                ).model_dump(mode="json", by_alias=True, exclude_none=True),
            }
            for offer in fillers
        ],
    ).raise_for_errors()

    expire_interaction(database_url, account, expired.id)

    return Shop(
        account=account,
        viewer=create_key(database_url, account, role="viewer"),
        synced=synced,
        error=error,
        sending=sending,
        unavailable=unavailable,
        busy=busy,
        nameless=nameless,
        failure_interaction=failure_interaction,
        success_interaction=success.id,
        expired_interaction=expired.id,
        fillers=fillers,
    )


def _seed_failure(shop: AccountClient, offer: SeededOffer) -> str:
    """A closed catalog interaction whose failure log holds CTLG-006-001 and NTMAP-001."""
    opened = shop.create_interaction(
        offer.feed_id,
        offer.sku_id,
        InteractionCreate.model_validate(
            {"source": "seller", "origin": "catalog", "context": "ongoing"}
        ),
    ).raise_for_errors()
    shop.create_log(
        offer.feed_id,
        offer.sku_id,
        opened.id,
        LogCreate.model_validate(
            {
                "type": "information",
                "description": "Sending the product to the channel",
                "agent": AGENT,
                "data": _metadata(offer.name, "Trailhead", "Boots", "#b71c1c"),
            }
        ),
    ).raise_for_errors()
    shop.create_log(
        offer.feed_id,
        offer.sku_id,
        opened.id,
        LogCreate(
            type="failure",
            description=FAILURE_DESCRIPTION,
            agent=AGENT,
            evidence=evidence(EVIDENCE_REQUEST, EVIDENCE_RESPONSE),
            errors=[
                error_entry(
                    KnownCode.CTLG_006,
                    "001",
                    title=CTLG_ERROR_TITLE,
                    description=CTLG_ERROR_DESCRIPTION,
                ),
                error_entry(
                    KnownCode.NTMAP_001,
                    title=NTMAP_ERROR_TITLE,
                    description=NTMAP_ERROR_DESCRIPTION,
                    external_code="HTTP-500",
                ),
            ],
        ),
    ).raise_for_errors()
    shop.close_interaction(offer.feed_id, offer.sku_id, opened.id).raise_for_errors()
    return opened.id


def _seed_busy(shop: AccountClient, offer: SeededOffer) -> None:
    """``BUSY_INTERACTIONS`` interactions: price, inventory and catalog, some notifications."""
    origins = ["price", "inventory", "catalog"]
    for n in range(BUSY_INTERACTIONS):
        origin = origins[n % len(origins)]
        data = {"status": "synced", **_metadata(offer.name, "Smash", "Rackets", "#f9a825")}
        if origin == "price":
            data |= {"price": f"{200 + n}.00", "currency": "BRL"}
        elif origin == "inventory":
            data |= {"inventory": str(10 + n)}
        log_type = "information" if n % 4 == 3 else "success"
        shop.create_unified_interaction(
            offer.feed_id,
            offer.sku_id,
            unified(origin, log_type, f"Update {n + 1} of {BUSY_INTERACTIONS}", data),
        ).raise_for_errors()


LONG_AGO = "2000-01-01 00:00:00.000000"


def expire_interaction(database_url: str, account: str, interaction_id: str) -> str:
    """Age a closed interaction's rows past any retention, then run ``sentoffers purge``.

    Only that interaction and its logs are dated back, so the purge (at the default 10-day
    retention) removes nothing else. Returns what the purge printed.
    """
    path = database_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path, timeout=30)) as db, db:
        aged = db.execute(
            "UPDATE interactions SET start_date = ?, last_activity_at = ?, closed_at = ?, "
            "created_at = ? WHERE account = ? AND id = ? AND state = 'closed'",
            (LONG_AGO, LONG_AGO, LONG_AGO, LONG_AGO, account, interaction_id),
        ).rowcount
        db.execute(
            "UPDATE logs SET date = ?, created_at = ? WHERE account = ? AND interaction_id = ?",
            (LONG_AGO, LONG_AGO, account, interaction_id),
        )
    assert aged == 1, f"no closed interaction {interaction_id} in {account}"
    done = subprocess.run(
        [sys.executable, "-m", "sentoffers", "purge", "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "1 closed interaction(s)" in done.stdout, done.stdout
    return done.stdout
