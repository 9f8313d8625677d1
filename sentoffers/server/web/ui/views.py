"""What pages say: labels, the documents' one-sentence meanings, links, values as text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from sentoffers.contract.offers import InteractionSummary
from sentoffers.server.features.offers.service import fill_link
from sentoffers.server.settings import Settings

STATUS_LABELS = {
    "synced": "Synced",
    "sending": "Sending",
    "error": "Error",
    "unavailable": "Unavailable",
}
STATUS_MEANINGS = {
    "synced": "The offer was received by the channel and is kept up to date there by the "
    "marketplace and the seller.",
    "sending": "The offer is being submitted to the channel: for the first time, to a new "
    "channel, or again after it was discarded.",
    "error": "An issue prevents the offer from being sent or updated on the channel, and "
    "action is needed to fix it.",
    "unavailable": "The offer was discarded because it is inactive or outside the trade "
    "policy (sales channel) set for the channel.",
}
RESULT_LABELS = {
    "success": "Success",
    "failure": "Failure",
    "notification": "Notification",
    "processing": "Processing",
}
RESULT_MEANINGS = {
    "success": "The interaction had its expected effect: the offer was sent to the channel, "
    "or its price, inventory or catalog information was updated.",
    "failure": "The interaction could not be completed because of an issue; this puts the "
    "offer in Error until the issue is fixed.",
    "notification": "The interaction reports on the offer's sending and syncing, to make "
    "them easier to follow; it does not change the offer.",
    "processing": "The interaction is still in progress; when it completes, its result will "
    "be Success, Failure or Notification.",
}
LOG_TYPE_LABELS = {
    "success": "Success",
    "information": "Info",
    "warning": "Warning",
    "failure": "Failure",
}
ORIGIN_LABELS = {"catalog": "Catalog", "price": "Price", "inventory": "Inventory"}


def duration_text(value: timedelta) -> str:
    """A duration in its largest whole unit: "30 minutes", "2 hours", "90 seconds"."""
    seconds = int(value.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", (status or "").capitalize())


def result_label(result: str | None) -> str:
    return RESULT_LABELS.get(result or "", (result or "").capitalize())


def log_type_label(log_type: str | None) -> str:
    return LOG_TYPE_LABELS.get(log_type or "", (log_type or "").capitalize())


def origin_label(origin: str | None) -> str:
    return ORIGIN_LABELS.get(origin or "", (origin or "").capitalize())


def _segment(value: str) -> str:
    return quote(value, safe="")


def offer_url(feed_id: str, sku_id: str) -> str:
    return f"/offers/{_segment(feed_id)}/{_segment(sku_id)}"


def interaction_url(feed_id: str, sku_id: str, interaction_id: str) -> str:
    return f"{offer_url(feed_id, sku_id)}/interactions/{_segment(interaction_id)}"


def evidence_url(feed_id: str, sku_id: str, interaction_id: str, log_id: str) -> str:
    return f"{interaction_url(feed_id, sku_id, interaction_id)}/evidence/{_segment(log_id)}"


def live_offer_url(feed_id: str, sku_id: str, version: str) -> str:
    return f"/live{offer_url(feed_id, sku_id)}?v={quote(version, safe='')}"


def live_interaction_url(feed_id: str, sku_id: str, interaction_id: str, version: str) -> str:
    return f"/live{interaction_url(feed_id, sku_id, interaction_id)}?v={quote(version, safe='')}"


def amount(value: str) -> str:
    """A price as sellers read it: ``124`` as ``124.00``; finer values kept as sent."""
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return value
    exponent = number.as_tuple().exponent
    if not number.is_finite() or not isinstance(exponent, int) or exponent < -2:
        return value
    return f"{number:.2f}"


def new_value_text(interaction: InteractionSummary) -> str:
    """What an interaction set: ``Price 124.00 BRL``, ``Inventory 8``; ``—`` when nothing.

    As the offer-details document puts it, the new value is a price or a stock level; a
    failed interaction updated nothing, so it shows none.
    """
    value = interaction.new_value
    if value is None or interaction.result == "failure":
        return "—"
    currency = f" {value.currency}" if value.currency else ""
    parts = []
    if value.price is not None:
        parts.append(f"Price {amount(value.price)}{currency}")
    if value.sales_price is not None:
        parts.append(f"Sales price {amount(value.sales_price)}{currency}")
    if value.inventory is not None:
        parts.append(f"Inventory {value.inventory}")
    return ", ".join(parts) or "—"


def error_name(title: str | None, code_type: str | None, code: str) -> str:
    """An error's name: its title, else its code's type, else the code itself."""
    for candidate in (title, code_type):
        if candidate and candidate.strip():
            return candidate.strip()
    return code


@dataclass(frozen=True, slots=True)
class EditLinks:
    information: str
    price: str
    inventory: str

    def for_origin(self, origin: str) -> tuple[str, str]:
        """The edit link of an error's origin, with its label."""
        if origin == "price":
            return "Edit price", self.price
        if origin == "inventory":
            return "Edit inventory", self.inventory
        return "Edit catalog", self.information


def edit_links(settings: Settings, account: str, sku_id: str, product_id: str | None) -> EditLinks:
    return EditLinks(
        information=fill_link(settings.ui_edit_information_url, account, sku_id, product_id),
        price=fill_link(settings.ui_edit_price_url, account, sku_id, product_id),
        inventory=fill_link(settings.ui_edit_inventory_url, account, sku_id, product_id),
    )
