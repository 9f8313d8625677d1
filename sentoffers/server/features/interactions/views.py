"""Entities and rows to the contract's response shapes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sentoffers.contract.interactions import (
    ErrorRead,
    EvidenceRead,
    LogRead,
    Notice,
    iso,
)
from sentoffers.domain.errors import Problem
from sentoffers.domain.model import Interaction, Log
from sentoffers.server.store.codec import log_to_row


def notices(problems: list[Problem]) -> list[Notice]:
    return [Notice.model_construct(code=p.code, message=p.message, field=p.field) for p in problems]


def log_fields(log: Log) -> dict[str, Any]:
    """The fields of a new log's response: the row the store writes, read back."""
    return log_row_fields(log_to_row("", log, "", "", 0, None))


def log_row_fields(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The fields of a log's response from its stored row."""
    evidence = row["evidence"]
    return {
        "id": row["id"],
        "interaction_id": row["interaction_id"],
        "date": iso(row["date"]) or "",
        "type": row["type"],
        "description": row["description"],
        "agent": row["agent"],
        "evidence": EvidenceRead(**evidence) if evidence else EvidenceRead(),
        "data": row["data"],
        "errors": [ErrorRead.model_validate(e) for e in row["errors"] or ()],
    }


def log_row_view(row: Mapping[Any, Any]) -> LogRead:
    return LogRead(**log_row_fields(row))


def interaction_fields(
    account: str, interaction: Interaction, logs: list[LogRead]
) -> dict[str, Any]:
    """The fields of an interaction's response, for ``InteractionRead`` and its extensions."""
    return {
        "account": account,
        "feed_id": interaction.feed_id,
        "sku_id": interaction.sku_id,
        "id": interaction.id,
        "start_date": iso(interaction.start_date) or "",
        "result": interaction.result.value,
        "state": interaction.state.value,
        "source": interaction.source.value,
        "origin": interaction.origin.value,
        "context": interaction.context.value,
        "closed_at": iso(interaction.closed_at),
        "logs": logs,
    }
