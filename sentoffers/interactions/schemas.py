"""Requests as connectors send them, and responses in the contract's camelCase shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, field_validator

from sentoffers.contract import (
    CompatModel,
    ContextIn,
    DataStatusIn,
    DateIn,
    LogTypeIn,
    OriginIn,
    ReadModel,
    SourceIn,
    as_list,
    origins_list,
)
from sentoffers.domain.vocabulary import format_date

SHORT = 200
LONG = 20_000


class EvidenceIn(CompatModel):
    request: str | None = Field(default=None, max_length=200_000)
    response: str | None = Field(default=None, max_length=200_000)


def _evidence(value: Any) -> Any:
    # Some connectors send the cURL of the call as one string.
    return {"request": value} if isinstance(value, str) else value


class DataIn(CompatModel):
    key_aliases: ClassVar[dict[str, str]] = {
        "externalId": "externalOfferId",
        "offerId": "externalOfferId",
        "stock": "inventory",
        "quantity": "inventory",
        "salePrice": "salesPrice",
        "imageUrl": "image",
        "skuName": "name",
        "brandName": "brand",
        "categoryName": "category",
    }

    external_offer_id: str | None = Field(default=None, max_length=SHORT)
    inventory: str | None = Field(default=None, max_length=64)
    price: str | None = Field(default=None, max_length=64)
    sales_price: str | None = Field(default=None, max_length=64)
    currency: str | None = Field(default=None, max_length=16)
    status: DataStatusIn | None = None
    # Offer metadata a connector may know; otherwise the catalog is asked for it.
    name: str | None = Field(default=None, max_length=1000)
    image: str | None = Field(default=None, max_length=4000)
    product_id: str | None = Field(default=None, max_length=128)
    brand: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)


class ErrorIn(CompatModel):
    code: str = Field(min_length=1, max_length=128)
    external_code: str | None = Field(default=None, max_length=SHORT)
    title: str | None = Field(default=None, max_length=1000)
    description: str | None = Field(default=None, max_length=LONG)
    closable_origins: Annotated[list[OriginIn], BeforeValidator(origins_list)] = Field(
        default_factory=list
    )

    @field_validator("code")
    @classmethod
    def _code_has_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the error code must not be blank")
        return value.strip()


class LogCreate(CompatModel):
    key_aliases: ClassVar[dict[str, str]] = {"message": "description", "error": "errors"}

    type: LogTypeIn
    description: str = Field(default="", max_length=LONG)
    date: DateIn | None = None
    agent: str = Field(default="", max_length=SHORT)
    evidence: Annotated[EvidenceIn | None, BeforeValidator(_evidence)] = None
    data: DataIn | None = None
    errors: Annotated[list[ErrorIn], BeforeValidator(as_list)] = Field(
        default_factory=list, max_length=500
    )


class InteractionCreate(CompatModel):
    key_aliases: ClassVar[dict[str, str]] = {"date": "startDate"}

    source: SourceIn
    origin: OriginIn
    context: ContextIn
    start_date: DateIn | None = None


class UnifiedCreate(LogCreate):
    """The unified contract: open an interaction, log once and close it, in one call."""

    key_aliases: ClassVar[dict[str, str]] = {**LogCreate.key_aliases, "startDate": "date"}

    source: SourceIn
    origin: OriginIn
    context: ContextIn


class BatchItem(UnifiedCreate):
    key_aliases: ClassVar[dict[str, str]] = {
        **UnifiedCreate.key_aliases,
        "sku": "skuId",
        "idSku": "skuId",
    }

    sku_id: str = Field(min_length=1, max_length=128)


class EvidenceRead(ReadModel):
    request: str | None = None
    response: str | None = None


class ErrorRead(ReadModel):
    code: str
    external_code: str | None = None
    title: str | None = None
    description: str | None = None
    closable_origins: list[str] = Field(default_factory=list)
    error_code_id: str = Field(description="The known code this error resolves to, or NTMAP-001")
    mapped: bool


class LogRead(ReadModel):
    id: str
    interaction_id: str
    date: str
    type: str
    description: str
    agent: str
    evidence: EvidenceRead = Field(default_factory=EvidenceRead)
    data: dict[str, str] | None = None
    errors: list[ErrorRead] = Field(default_factory=list)


class Notice(ReadModel):
    code: str
    message: str
    field: str | None = None


class LogCreated(LogRead):
    warnings: list[Notice] = Field(default_factory=list)


class InteractionRead(ReadModel):
    account: str
    feed_id: str
    sku_id: str
    id: str
    start_date: str
    result: str
    state: str
    source: str
    origin: str
    context: str
    closed_at: str | None = None
    logs: list[LogRead] = Field(default_factory=list)


class UnifiedRead(InteractionRead):
    offer_status: str
    warnings: list[Notice] = Field(default_factory=list)


class BatchItemResult(ReadModel):
    index: int
    sku_id: str | None = None
    status: int = Field(description="What the item would have answered alone: 201, 400, 409...")
    interaction_id: str | None = None
    log_id: str | None = None
    result: str | None = None
    offer_status: str | None = None
    warnings: list[Notice] = Field(default_factory=list)
    errors: list[Notice] = Field(default_factory=list)


class BatchRead(ReadModel):
    succeeded: int
    failed: int
    items: list[BatchItemResult]


def iso(value: datetime | None) -> str | None:
    return format_date(value) if value is not None else None
