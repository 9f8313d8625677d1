"""The query parameters of the API's lists: ``from``/``to`` (inclusive), ``sort``
(``field:direction``) and comma-separated filters. ``sentoffers.server.store.queries`` reads
them into windows and ORDER BY clauses."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

FromParam = Annotated[
    int | None, Query(alias="from", ge=0, le=1_000_000, description="First item (0-based).")
]
ToParam = Annotated[
    int | None,
    Query(alias="to", ge=0, le=1_000_000, description="Last item, inclusive (at most 100)."),
]
SortParam = Annotated[
    str | None,
    Query(max_length=64, description="`field:asc` or `field:desc`, e.g. `startDate:desc`."),
]


def csv_values(value: str | None) -> list[str]:
    """``a,b, c`` as ``["a", "b", "c"]``; empty or blank is no filter."""
    if not value:
        return []
    return [part.strip() for part in value.split(",") if part.strip()]
