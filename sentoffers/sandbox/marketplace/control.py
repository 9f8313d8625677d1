"""The marketplace's own switches, under ``/_sandbox`` (not in the OpenAPI, not counted, never
throttled or failed), for a marketplace run by ``sentoffers sandbox`` in another process:

- ``GET /_sandbox/stats``: requests per endpoint and products held;
- ``POST /_sandbox/down`` ``{"seconds"}`` and ``POST /_sandbox/up``;
- ``PUT /_sandbox/faults`` ``{"failureRate"?, "rateLimitPerSecond"?}``;
- ``POST /_sandbox/expire-tokens``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from sentoffers.sandbox.marketplace.app import SampleMarketplace


class DownIn(BaseModel):
    seconds: float = Field(gt=0, le=86400)


class FaultsIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    failure_rate: float | None = Field(default=None, ge=0, le=1, alias="failureRate")
    rate_limit_per_second: int | None = Field(default=None, ge=0, alias="rateLimitPerSecond")


def control_routes(marketplace: SampleMarketplace) -> APIRouter:
    """The ``/_sandbox`` routes of ``marketplace``."""
    router = APIRouter(prefix="/_sandbox", include_in_schema=False)

    def faults() -> dict[str, Any]:
        return {
            "failureRate": marketplace.faults.failure_rate,
            "rateLimitPerSecond": marketplace.limiter.per_second,
            "downForSeconds": marketplace.faults.down_remaining(),
        }

    @router.get("/stats")
    def stats() -> dict[str, Any]:
        return {
            "requests": marketplace.state.request_counts(),
            "products": len(marketplace.state.products()),
            **faults(),
        }

    @router.post("/down")
    def down(body: DownIn) -> dict[str, Any]:
        marketplace.faults.down_for(body.seconds)
        return faults()

    @router.post("/up")
    def up() -> dict[str, Any]:
        marketplace.faults.up()
        return faults()

    @router.put("/faults")
    def set_faults(body: FaultsIn) -> dict[str, Any]:
        if body.failure_rate is not None:
            marketplace.faults.failure_rate = body.failure_rate
        if body.rate_limit_per_second is not None:
            marketplace.limiter.per_second = body.rate_limit_per_second or None
        return faults()

    @router.post("/expire-tokens")
    def expire_tokens() -> dict[str, Any]:
        marketplace.tokens.expire_all()
        return faults()

    return router
