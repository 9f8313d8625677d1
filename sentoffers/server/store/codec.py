"""Entities to rows and back, and the JSON shapes stored for logs and data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sentoffers.domain.model import (
    OFFER_FIELDS,
    Context,
    DataStatus,
    ErrorOccurrence,
    Interaction,
    Log,
    LogError,
    Offer,
    OfferData,
    OfferStatus,
    Origin,
    Result,
    Source,
    State,
    offer_fields,
)

# A log's data as stored: every offer field under its wire name, and the stated status.
_DATA_KEYS = {**{f.name: f.wire for f in OFFER_FIELDS}, "status": "status"}


def data_to_json(data: OfferData) -> dict[str, str] | None:
    out = {
        key: str(value)
        for name, key in _DATA_KEYS.items()
        if (value := getattr(data, name)) is not None
    }
    return out or None


def data_from_json(value: Mapping[Any, Any] | None) -> OfferData:
    if not value:
        return OfferData()
    fields = {name: value.get(key) for name, key in _DATA_KEYS.items()}
    status = fields.pop("status")
    return OfferData(**fields, status=DataStatus(status) if status else None)


def error_to_json(error: LogError) -> dict[str, Any]:
    return {
        "code": error.code,
        "externalCode": error.external_code,
        "title": error.title,
        "description": error.description,
        "closableOrigins": [origin.value for origin in error.closable_origins],
        "errorCodeId": error.error_code_id,
        "mapped": error.mapped,
    }


def log_to_row(
    account: str, log: Log, feed_id: str, sku_id: str, seq: int, received_at: Any
) -> dict[str, Any]:
    evidence = None
    if log.evidence_request is not None or log.evidence_response is not None:
        evidence = {"request": log.evidence_request, "response": log.evidence_response}
    return {
        "account": account,
        "id": log.id,
        "interaction_id": log.interaction_id,
        "feed_id": feed_id,
        "sku_id": sku_id,
        "seq": seq,
        "date": log.date,
        "type": log.type.value,
        "description": log.description,
        "agent": log.agent,
        "evidence": evidence,
        "data": data_to_json(log.data),
        "errors": [error_to_json(e) for e in log.errors] or None,
        "created_at": received_at,
    }


def interaction_to_row(account: str, interaction: Interaction, now: Any) -> dict[str, Any]:
    return {
        "account": account,
        "id": interaction.id,
        "feed_id": interaction.feed_id,
        "sku_id": interaction.sku_id,
        "start_date": interaction.start_date,
        "source": interaction.source.value,
        "origin": interaction.origin.value,
        "context": interaction.context.value,
        "state": interaction.state.value,
        "result": interaction.result.value,
        "has_failure": interaction.has_failure,
        "has_success": interaction.has_success,
        "data": data_to_json(interaction.data),
        "last_log_id": interaction.last_log_id,
        "log_count": interaction.log_count,
        "last_activity_at": interaction.last_activity_at or interaction.start_date,
        "closed_at": interaction.closed_at,
        "created_at": now,
    }


INTERACTION_MUTABLE = (
    "state",
    "result",
    "has_failure",
    "has_success",
    "data",
    "last_log_id",
    "log_count",
    "last_activity_at",
    "closed_at",
)


def interaction_from_row(row: Mapping[Any, Any]) -> Interaction:
    return Interaction(
        id=row["id"],
        feed_id=row["feed_id"],
        sku_id=row["sku_id"],
        start_date=row["start_date"],
        source=Source(row["source"]),
        origin=Origin(row["origin"]),
        context=Context(row["context"]),
        state=State(row["state"]),
        result=Result(row["result"]),
        has_failure=row["has_failure"],
        has_success=row["has_success"],
        data=data_from_json(row["data"]),
        last_log_id=row["last_log_id"],
        log_count=row["log_count"],
        last_activity_at=row["last_activity_at"],
        closed_at=row["closed_at"],
    )


# Columns only a log's data changes, and the indexes over them with it.
OFFER_DESCRIPTION = offer_fields(sold=False)
# Columns every write may change.
OFFER_STATE = (
    *("status", *offer_fields(sold=True)),
    *("last_interaction_id", "updated_at", "status_since"),
)
OFFER_MUTABLE = (*OFFER_STATE, *OFFER_DESCRIPTION)


def offer_to_row(account: str, offer: Offer) -> dict[str, Any]:
    return {
        "account": account,
        "feed_id": offer.feed_id,
        "sku_id": offer.sku_id,
        "status": offer.status.value,
        **{f.name: getattr(offer, f.name) for f in OFFER_FIELDS},
        "last_interaction_id": offer.last_interaction_id,
        "created_at": offer.created_at,
        "updated_at": offer.updated_at,
        "status_since": offer.status_since,
    }


def offer_from_row(row: Mapping[Any, Any]) -> Offer:
    return Offer(
        feed_id=row["feed_id"],
        sku_id=row["sku_id"],
        status=OfferStatus(row["status"]),
        **{f.name: row[f.name] for f in OFFER_FIELDS},
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status_since=row["status_since"],
        last_interaction_id=row["last_interaction_id"],
    )


def occurrence_to_row(account: str, offer: Offer, error: ErrorOccurrence) -> dict[str, Any]:
    return {
        "account": account,
        "id": error.id,
        "feed_id": offer.feed_id,
        "sku_id": offer.sku_id,
        "code": error.code,
        "error_code_id": error.error_code_id,
        "external_code": error.external_code,
        "title": error.title,
        "description": error.description,
        "closable_origins": [o.value for o in error.closable_origins],
        "origin": error.origin.value,
        "fingerprint": error.fingerprint,
        "interaction_id": error.interaction_id,
        "log_id": error.log_id,
        "date": error.date,
        "open": error.open,
        "closed_at": error.closed_at,
        "closed_by_interaction_id": error.closed_by_interaction_id,
    }


def occurrence_from_row(row: Mapping[Any, Any]) -> ErrorOccurrence:
    return ErrorOccurrence(
        id=row["id"],
        code=row["code"],
        error_code_id=row["error_code_id"],
        origin=Origin(row["origin"]),
        interaction_id=row["interaction_id"],
        log_id=row["log_id"],
        date=row["date"],
        external_code=row["external_code"],
        title=row["title"],
        description=row["description"],
        closable_origins=tuple(Origin(o) for o in row["closable_origins"] or ()),
        fingerprint=row["fingerprint"],
        open=row["open"],
        closed_at=row["closed_at"],
        closed_by_interaction_id=row["closed_by_interaction_id"],
    )
