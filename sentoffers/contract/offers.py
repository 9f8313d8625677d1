from __future__ import annotations

from pydantic import Field

from sentoffers.contract import Paging, ReadModel


class ChannelRef(ReadModel):
    id: str
    name: str
    logo: str


class OfferSummary(ReadModel):
    feed_id: str
    sku_id: str
    channel: ChannelRef
    status: str
    name: str | None = None
    image: str | None = None
    product_id: str | None = None
    brand: str | None = None
    category: str | None = None
    external_offer_id: str | None = None
    price: str | None = None
    sales_price: str | None = None
    currency: str | None = None
    inventory: str | None = None
    open_error_count: int = 0
    created_at: str
    updated_at: str
    status_since: str | None = Field(default=None, description="When the offer entered its status")
    sending_since: str | None = Field(
        default=None, description="When the offer entered Sending, while it is in Sending"
    )
    stuck: bool = Field(
        default=False,
        description="In Sending for longer than the stuck time (SENTOFFERS_STUCK_AFTER_SECONDS)",
    )


class StatusCounts(ReadModel):
    synced: int = 0
    sending: int = 0
    error: int = 0
    unavailable: int = 0
    stuck: int = Field(default=0, description="Offers in Sending for longer than the stuck time")


class OfferPage(ReadModel):
    items: list[OfferSummary]
    paging: Paging
    counts: StatusCounts = Field(description="Offers per status under the same filters.")


class OpenError(ReadModel):
    code: str
    error_code_id: str
    external_code: str | None = None
    title: str | None = None
    description: str | None = None
    origin: str
    closable_origins: list[str] = Field(default_factory=list)
    date: str
    interaction_id: str
    log_id: str
    type: str | None = Field(default=None, description="The error code's type")
    solution_text: str | None = None
    solution_link: str | None = None


class StatusChangeRead(ReadModel):
    from_status: str | None = None
    to_status: str
    reason: str
    changed_at: str
    interaction_id: str
    log_id: str | None = None


class NewValue(ReadModel):
    price: str | None = None
    sales_price: str | None = None
    currency: str | None = None
    inventory: str | None = None
    status: str | None = None


class InteractionSummary(ReadModel):
    id: str
    start_date: str
    closed_at: str | None = None
    source: str
    origin: str
    context: str
    state: str
    result: str
    log_count: int
    new_value: NewValue | None = None


class InteractionSummaryPage(ReadModel):
    items: list[InteractionSummary]
    paging: Paging


class LastReport(ReadModel):
    """The last thing the connector reported on the offer."""

    interaction_id: str
    origin: str
    interaction_state: str
    log_id: str | None = None
    type: str | None = None
    description: str | None = None
    date: str


class OfferDetails(OfferSummary):
    last_report: LastReport | None = None
    open_errors: list[OpenError]
    status_history: list[StatusChangeRead]
    interactions: list[InteractionSummary]


class UnmappedErrorGroup(ReadModel):
    fingerprint: str
    sample_code: str
    sample_description: str
    occurrences: int
    first_seen: str
    last_seen: str
    offers_affected: int


class UnmappedErrorPage(ReadModel):
    items: list[UnmappedErrorGroup]
    paging: Paging
