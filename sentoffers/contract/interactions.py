"""Requests as connectors send them, and responses in the contract's camelCase shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    BeforeValidator,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from sentoffers.contract import (
    CompatModel,
    ContextIn,
    DataStatusIn,
    DateIn,
    FreeText,
    Line,
    LogTypeIn,
    OriginIn,
    RawText,
    ReadModel,
    SkuIdIn,
    SourceIn,
    as_list,
    origins_list,
)
from sentoffers.domain.model import OFFER_FIELDS
from sentoffers.domain.vocabulary import format_date

SHORT = 200
LONG = 20_000


class EvidenceIn(CompatModel):
    """A marketplace call as the connector saw it: kept as sent, NUL escaped (``RawText``)."""

    request: RawText | None = Field(default=None, max_length=200_000)
    response: RawText | None = Field(default=None, max_length=200_000)


def _evidence(value: Any) -> Any:
    # Some connectors send the cURL of the call as one string.
    return {"request": value} if isinstance(value, str) else value


class DataIn(CompatModel):
    """A log's ``data``: the offer fields of ``sentoffers.domain.model.OFFER_FIELDS`` (each
    under its wire name or an alias, no longer than its declared length) and the status the
    connector states."""

    key_aliases: ClassVar[dict[str, str]] = {
        alias: f.wire for f in OFFER_FIELDS for alias in f.aliases
    }

    external_offer_id: Line | None = Field(default=None, max_length=SHORT)
    inventory: Line | None = Field(default=None, max_length=64)
    price: Line | None = Field(default=None, max_length=64)
    sales_price: Line | None = Field(default=None, max_length=64)
    currency: Line | None = Field(default=None, max_length=16)
    status: DataStatusIn | None = None
    # Offer metadata a connector may know; otherwise the catalog is asked for it. Names,
    # brands and categories are searched and filtered on: one line each.
    name: Line | None = Field(default=None, max_length=1000)
    image: Line | None = Field(default=None, max_length=4000)
    product_id: Line | None = Field(default=None, max_length=128)
    brand: Line | None = Field(default=None, max_length=200)
    category: Line | None = Field(default=None, max_length=200)


class ErrorIn(CompatModel):
    code: Line = Field(min_length=1, max_length=128)
    external_code: Line | None = Field(default=None, max_length=SHORT)
    title: FreeText | None = Field(default=None, max_length=1000)
    description: FreeText | None = Field(default=None, max_length=LONG)
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
    description: FreeText = Field(default="", max_length=LONG)
    date: DateIn | None = None
    agent: Line = Field(default="", max_length=SHORT)
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


MAX_LOGS_PER_ITEM = 100
"""The most logs one batch item may carry."""

LOG_FIELDS = ("type", "description", "agent", "evidence", "data", "errors")
"""The single log's fields an item may carry at its top level (``date`` is also the start)."""


class BatchItem(CompatModel):
    """One item of the batch form: the unified contract for one SKU, with one log or several.

    Either the one log's fields at the top level, as in the unified call (``type`` and the
    rest; ``date`` then dates both the interaction and its log), or ``logs``: up to 100 Create
    Log bodies appended in order before the interaction is closed (``date``/``startDate`` is
    then the interaction's start, by default its earliest log's date). Never both.
    """

    key_aliases: ClassVar[dict[str, str]] = {
        **UnifiedCreate.key_aliases,
        "sku": "skuId",
        "idSku": "skuId",
    }

    sku_id: SkuIdIn = Field(min_length=1, max_length=128)
    source: SourceIn
    origin: OriginIn
    context: ContextIn
    date: DateIn | None = None
    type: LogTypeIn | None = None
    description: FreeText = Field(default="", max_length=LONG)
    agent: Line = Field(default="", max_length=SHORT)
    evidence: Annotated[EvidenceIn | None, BeforeValidator(_evidence)] = None
    data: DataIn | None = None
    errors: Annotated[list[ErrorIn], BeforeValidator(as_list)] = Field(
        default_factory=list, max_length=500
    )
    logs: list[LogCreate] | None = Field(
        default=None,
        max_length=MAX_LOGS_PER_ITEM,
        description="The interaction's logs, in order; instead of the top-level log fields",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _one_form(cls, value: Any, handler: ModelWrapValidatorHandler[BatchItem]) -> BatchItem:
        # Checked on the input as sent, so these problems are listed with every other one.
        form = _form_problems(value, cls._key_lookup()) if isinstance(value, dict) else []
        if not form:
            return handler(value)
        found: list[ErrorDetails] = []
        try:
            handler(value)
        except ValidationError as error:
            found = error.errors(include_url=False)
        raise ValidationError.from_exception_data(
            cls.__name__,
            [
                *form,
                *(
                    InitErrorDetails(
                        type=PydanticCustomError(e["type"], e["msg"]),
                        loc=e["loc"],
                        input=e["input"],
                    )
                    for e in found
                ),
            ],
        )

    def log_bodies(self) -> list[LogCreate]:
        """The logs this item appends, in order: its ``logs``, or its one top-level log."""
        if self.logs:
            return self.logs
        # Built from values already validated here: no need to validate them again.
        return [LogCreate.model_construct(**{name: getattr(self, name) for name in _LOG_BODY})]


_LOG_BODY = (*LOG_FIELDS, "date")


def _given(value: Any) -> bool:
    return value not in (None, "", [], {})


def _form_problems(value: dict[Any, Any], lookup: dict[str, str]) -> list[InitErrorDetails]:
    """What is wrong with an item's form: both forms, neither, or an empty ``logs``."""
    sent = {
        lookup.get(key.lower(), key): item for key, item in value.items() if isinstance(key, str)
    }
    logs = sent.get("logs")
    if logs is None:
        if _given(sent.get("type")):
            return []
        message = "give the log's fields (type, description...) or a non-empty logs list"
        return [_problem("missing", message, "type", value)]
    if isinstance(logs, list) and not logs:
        message = (
            "logs must hold at least one log; for a single log, leave logs out and give "
            "its fields (type, description...) at the top level"
        )
        return [_problem("too_short", message, "logs", logs)]
    return [
        _problem(
            "invalid",
            f"an item with logs carries {name} in each log, not at its top level",
            name,
            sent[name],
        )
        for name in LOG_FIELDS
        if _given(sent.get(name))
    ]


def _problem(kind: str, message: str, name: str, value: Any) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError(kind, message), loc=(name,), input=value)


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
    log_id: str | None = Field(default=None, description="The id of the item's last log")
    log_ids: list[str] = Field(
        default_factory=list, description="The ids of the item's logs, in order"
    )
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
