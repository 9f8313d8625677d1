"""The batch form of the unified contract: many SKUs of one feed in one call.

Items are validated one by one, so a bad item fails alone (its result says why, with every
problem); the valid ones are written together through ``service.write_unified``, in order,
in one transaction. An item is one log, or several (``logs``) of one interaction.

The feed id arrives normalised (``sentoffers.domain.ids``); the items arrive as sent, and
each is read here, its SKU id without the blanks around it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from sentoffers.contract import validation_problems
from sentoffers.contract.interactions import BatchItem, BatchItemResult, BatchRead
from sentoffers.domain.errors import InvalidInput, ServiceError
from sentoffers.server.features.interactions.service import Applied, write_unified
from sentoffers.server.features.interactions.views import notices
from sentoffers.sql.db import Database

__all__ = ["batch"]

_batch_item = TypeAdapter(BatchItem)


def batch(
    db: Database,
    account: str,
    feed_id: str,
    items: Sequence[Any],
    known_codes: Collection[str],
    *,
    max_items: int,
    now: datetime | None = None,
) -> BatchRead:
    """The unified contract for many SKUs of one feed; a bad item fails alone."""
    now = now or datetime.now(UTC)
    if not isinstance(items, list) or not items:
        raise InvalidInput("the body must be a non-empty JSON array of items", field="body")
    if len(items) > max_items:
        raise InvalidInput(
            f"a batch holds at most {max_items} items; this one has {len(items)}",
            code="batch_too_large",
            field="body",
        )
    results: list[BatchItemResult | None] = [None] * len(items)
    valid: list[tuple[int, BatchItem]] = []
    for index, raw in enumerate(items):
        try:
            valid.append((index, _batch_item.validate_python(raw)))
        except ValidationError as error:
            results[index] = BatchItemResult(
                index=index,
                sku_id=_named_sku(raw),
                status=400,
                errors=notices(validation_problems(error.errors())),
            )
    if valid:
        with db.unit_of_work() as uow:
            written = write_unified(
                uow.conn,
                account,
                feed_id,
                [(item.sku_id, item) for _, item in valid],
                known_codes,
                now,
            )
            uow.commit()
        for (index, item), outcome in zip(valid, written, strict=True):
            results[index] = _batch_result(index, item.sku_id, outcome)
    done = [r for r in results if r is not None]
    succeeded = sum(1 for r in done if r.status == 201)
    return BatchRead(succeeded=succeeded, failed=len(done) - succeeded, items=done)


_SKU_KEYS = frozenset({"skuid", "sku_id", "sku", "idsku"})


def _named_sku(raw: Any) -> str | None:
    """The SKU a refused item names, in any spelling; a number is read as text."""
    if not isinstance(raw, dict):
        return None
    sku = next((v for k, v in raw.items() if isinstance(k, str) and k.lower() in _SKU_KEYS), None)
    return str(sku) if isinstance(sku, str | int) and not isinstance(sku, bool) else None


def _batch_result(index: int, sku: str, outcome: Applied | ServiceError) -> BatchItemResult:
    # Built from values the service made itself: no need to validate them again.
    if isinstance(outcome, ServiceError):
        return BatchItemResult.model_construct(
            index=index,
            sku_id=sku,
            status=outcome.status_code,
            errors=notices(outcome.problems),
            warnings=[],
            log_ids=[],
        )
    return BatchItemResult.model_construct(
        index=index,
        sku_id=sku,
        status=201,
        interaction_id=outcome.interaction.id,
        log_id=outcome.log.id,
        log_ids=[log.id for log in outcome.logs],
        result=outcome.interaction.result.value,
        offer_status=outcome.offer_status.value,
        warnings=notices(outcome.warnings),
        errors=[],
    )
