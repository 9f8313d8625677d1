"""Entities and rows to the contract's response shapes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sentoffers.domain.model import Interaction, Log
from sentoffers.errors import Problem
from sentoffers.interactions.schemas import (
    ErrorRead,
    EvidenceRead,
    InteractionRead,
    LogRead,
    Notice,
    iso,
)
from sentoffers.store.codec import data_to_json, error_to_json


def notices(problems: list[Problem]) -> list[Notice]:
    return [Notice(code=p.code, message=p.message, field=p.field) for p in problems]


def log_view(log: Log) -> LogRead:
    return log_row_view(
        {
            "id": log.id,
            "interaction_id": log.interaction_id,
            "date": log.date,
            "type": log.type.value,
            "description": log.description,
            "agent": log.agent,
            "evidence": (
                {"request": log.evidence_request, "response": log.evidence_response}
                if log.evidence_request is not None or log.evidence_response is not None
                else None
            ),
            "data": data_to_json(log.data),
            "errors": [error_to_json(e) for e in log.errors],
        }
    )


def log_row_view(row: Mapping[Any, Any]) -> LogRead:
    evidence = row["evidence"]
    return LogRead(
        id=row["id"],
        interaction_id=row["interaction_id"],
        date=iso(row["date"]) or "",
        type=row["type"],
        description=row["description"],
        agent=row["agent"],
        evidence=EvidenceRead(**evidence) if evidence else {},
        data=row["data"],
        errors=[ErrorRead.model_validate(e) for e in row["errors"] or ()],
    )


def interaction_view(account: str, interaction: Interaction, logs: list[LogRead]) -> dict[str, Any]:
    return InteractionRead(
        account=account,
        feed_id=interaction.feed_id,
        sku_id=interaction.sku_id,
        id=interaction.id,
        start_date=iso(interaction.start_date) or "",
        result=interaction.result.value,
        state=interaction.state.value,
        source=interaction.source.value,
        origin=interaction.origin.value,
        context=interaction.context.value,
        closed_at=iso(interaction.closed_at),
        logs=logs,
    ).model_dump()
