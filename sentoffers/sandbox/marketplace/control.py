"""The marketplace's own switches, under ``/_sandbox`` (not in the OpenAPI, not counted, never
throttled or failed), for a marketplace run by ``sentoffers sandbox`` in another process:

- ``GET /_sandbox/stats``: requests per endpoint, products held, lots and lot items per
  operation, ``duplicates`` (seller SKUs listed more than once: stays empty while SKUs are
  unique), 409 ``conflicts``, ``injectedFailures`` (5xx before applying), ``lostAnswers``
  (5xx after applying), ``throttled`` (429), ``refusedWhileDown`` (503), ``downSeconds`` and
  ``downPeriods``, and the faults in force;
- ``GET /_sandbox/products``: every product listed, as the API shows them, in the order they
  were created (a check that needs no token and is never throttled or failed);
- ``POST /_sandbox/down`` ``{"seconds", "after"?}`` (a period that ends by itself, starting
  now or ``after`` seconds from now) and ``POST /_sandbox/up``;
- ``PUT /_sandbox/faults`` ``{"failureRate"?, "lostAnswerRate"?, "rateLimitPerSecond"?
  (0: none), "maxLotSize"?}``;
- ``POST /_sandbox/expire-tokens``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

if TYPE_CHECKING:
    from sentoffers.sandbox.marketplace.app import SampleMarketplace


class DownIn(BaseModel):
    seconds: float = Field(gt=0, le=86400)
    after: float = Field(default=0.0, ge=0, le=86400)


class FaultsIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    failure_rate: float | None = Field(default=None, ge=0, le=1, alias="failureRate")
    lost_answer_rate: float | None = Field(default=None, ge=0, le=1, alias="lostAnswerRate")
    rate_limit_per_second: int | None = Field(default=None, ge=0, alias="rateLimitPerSecond")
    max_lot_size: int | None = Field(default=None, ge=1, le=10000, alias="maxLotSize")


def control_routes(marketplace: SampleMarketplace) -> APIRouter:
    """The ``/_sandbox`` routes of ``marketplace``."""
    router = APIRouter(prefix="/_sandbox", include_in_schema=False)

    def faults() -> dict[str, Any]:
        return {
            "failureRate": marketplace.faults.failure_rate,
            "lostAnswerRate": marketplace.faults.lost_answer_rate,
            "rateLimitPerSecond": marketplace.limiter.per_second,
            "maxLotSize": marketplace.state.max_lot_size,
            "uniqueSkus": marketplace.state.unique_skus,
            "downForSeconds": marketplace.faults.down_remaining(),
            "downStartsIn": marketplace.faults.down_starts_in(),
        }

    @router.get("/stats")
    async def stats() -> dict[str, Any]:
        return {
            "requests": marketplace.state.request_counts(),
            **marketplace.state.counts(),
            "downSeconds": round(marketplace.faults.down_seconds(), 3),
            "downPeriods": marketplace.faults.down_periods(),
            **faults(),
        }

    @router.get("/products")
    async def products() -> Response:
        items = [product.as_json() for product in marketplace.state.products()]
        body = to_json({"items": items, "total": len(items)})
        return Response(body, media_type="application/json")

    @router.post("/down")
    async def down(body: DownIn) -> dict[str, Any]:
        marketplace.faults.down_for(body.seconds, after=body.after)
        return faults()

    @router.post("/up")
    async def up() -> dict[str, Any]:
        marketplace.faults.up()
        return faults()

    @router.put("/faults")
    async def set_faults(body: FaultsIn) -> dict[str, Any]:
        if body.failure_rate is not None:
            marketplace.faults.failure_rate = body.failure_rate
        if body.lost_answer_rate is not None:
            marketplace.faults.lost_answer_rate = body.lost_answer_rate
        if body.rate_limit_per_second is not None:
            marketplace.limiter.per_second = body.rate_limit_per_second or None
        if body.max_lot_size is not None:
            marketplace.state.max_lot_size = body.max_lot_size
        return faults()

    @router.post("/expire-tokens")
    async def expire_tokens() -> dict[str, Any]:
        marketplace.tokens.expire_all()
        return faults()

    return router
