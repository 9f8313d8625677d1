"""Turning validated requests into domain entities."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sentoffers.contract.interactions import (
    BatchItem,
    DataIn,
    InteractionCreate,
    LogCreate,
    UnifiedCreate,
)
from sentoffers.domain.error_codes import fingerprint, resolve_error_code
from sentoffers.domain.errors import Problem
from sentoffers.domain.ids import new_id
from sentoffers.domain.model import UNMAPPED_CODE, Interaction, Log, LogError, OfferData
from sentoffers.server.store.offers import UnmappedSighting


def _start(body: InteractionCreate | UnifiedCreate | BatchItem) -> datetime | None:
    if isinstance(body, InteractionCreate):
        return body.start_date
    if body.date is None and isinstance(body, BatchItem) and body.logs:
        # Several logs and no start given: the interaction began with its earliest log.
        return min((log.date for log in body.logs if log.date is not None), default=None)
    return body.date


def build_interaction(
    body: InteractionCreate | UnifiedCreate | BatchItem, feed_id: str, sku_id: str, now: datetime
) -> Interaction:
    start = _start(body)
    return Interaction(
        id=new_id(),
        feed_id=feed_id,
        sku_id=sku_id,
        start_date=start or now,
        source=body.source,
        origin=body.origin,
        context=body.context,
        last_activity_at=now,
    )


def _data(data: DataIn | None) -> OfferData:
    if data is None:
        return OfferData()
    return OfferData(**data.model_dump(include=set(OfferData.__slots__)))


def build_log(
    body: LogCreate, interaction_id: str, known_codes: Collection[str], now: datetime
) -> tuple[Log, list[Problem], list[UnmappedSighting]]:
    """The log, the warnings its sender should hear, and the unmapped errors it carries."""
    warnings: list[Problem] = []
    unmapped: list[UnmappedSighting] = []
    errors = []
    for index, error in enumerate(body.errors):
        resolved = resolve_error_code(error.code, known_codes)
        error_print = None
        if not resolved.mapped:
            warnings.append(
                Problem(
                    "unmapped_error_code",
                    f"error code {error.code!r} is not in the error-code list; it is stored as "
                    "sent and classified as NTMAP-001",
                    f"errors[{index}].code",
                )
            )
        if resolved.error_code_id == UNMAPPED_CODE:
            text = error.description or error.title or error.code
            error_print = fingerprint(text)
            unmapped.append(UnmappedSighting(error_print, error.code, text, now))
        errors.append(
            LogError(
                code=resolved.code,
                error_code_id=resolved.error_code_id,
                external_code=error.external_code,
                title=error.title,
                description=error.description,
                closable_origins=tuple(dict.fromkeys(error.closable_origins)),
                fingerprint=error_print,
                mapped=resolved.mapped,
            )
        )
    log = Log(
        id=new_id(),
        interaction_id=interaction_id,
        date=body.date or now,
        type=body.type,
        description=body.description,
        agent=body.agent,
        evidence_request=body.evidence.request if body.evidence else None,
        evidence_response=body.evidence.response if body.evidence else None,
        data=_data(body.data),
        errors=tuple(errors),
    )
    return log, warnings, unmapped
