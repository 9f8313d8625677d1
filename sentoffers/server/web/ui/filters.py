"""What the pages read from their URLs: the ids in their paths, and the query strings of
the list pages, read leniently and written back for links.

The ids are normalised here by their kinds' rules (``sentoffers.domain.ids``), as the API's
are, so the features are handed ids they match as given. A page never fails on a
hand-edited URL: unknown values fall back to their defaults, and an id that names nothing
shows the page that says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path
from pydantic import AfterValidator

from sentoffers.domain.ids import normalize_feed_id, normalize_id
from sentoffers.domain.model import OfferStatus, Origin, Result
from sentoffers.server.store.queries import Window

OFFER_SORTS = {
    "updatedAt:desc": "Last update, newest first",
    "updatedAt:asc": "Last update, oldest first",
    "name:asc": "Name A–Z",  # noqa: RUF001 - the en dash is the label's
    "skuId:asc": "SKU ID",
    "statusSince:asc": "Longest in their status",
}
DEFAULT_OFFER_SORT = "updatedAt:desc"
OFFER_PAGE_SIZES = (25, 50, 100)
OFFER_STATUSES = tuple(status.value for status in OfferStatus)
ORIGINS = tuple(origin.value for origin in Origin)
RESULTS = tuple(
    r.value for r in (Result.SUCCESS, Result.FAILURE, Result.NOTIFICATION, Result.PROCESSING)
)
INTERACTION_PAGE_SIZES = (10, 25, 50)
# Pages go no deeper than this many offers: OFFSET costs grow with the depth, and past
# ten thousand rows filters (or the CSV export) serve a seller better than paging.
MAX_OFFER_OFFSET = 10_000
TEXT_LIMIT = 200

FeedIdPath = Annotated[str, Path(), AfterValidator(normalize_feed_id)]
"""A feed id in a page's path."""
SkuIdPath = Annotated[str, Path()]
"""An SKU id in a page's path: looked up as sent, as the API's reads do (links hold the
SKU ids the service stored)."""
IssuedIdPath = Annotated[str, Path(), AfterValidator(normalize_id)]
"""An interaction's or a log's id in a page's path."""


def _text(params: Mapping[str, str], name: str) -> str:
    return (params.get(name) or "").strip()[:TEXT_LIMIT]


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = (params.get(name) or "").strip().lower()
    return value if value in allowed else ""


def _number(params: Mapping[str, str], name: str, allowed: tuple[int, ...]) -> int:
    raw = (params.get(name) or "").strip()
    return int(raw) if raw.isdigit() and int(raw) in allowed else allowed[0]


def _page(params: Mapping[str, str]) -> int:
    raw = (params.get("page") or "").strip()
    return max(1, min(int(raw), 1_000_000)) if raw.isdigit() else 1


def _encode(values: dict[str, Any], defaults: dict[str, Any]) -> str:
    kept = {k: v for k, v in values.items() if v != defaults.get(k) and v not in ("", None)}
    return urlencode(kept)


@dataclass(frozen=True, slots=True)
class OfferFilters:
    q: str = ""
    channel: str = ""
    status: str = ""
    errorCode: str = ""  # noqa: N815 - named as its query parameter
    origin: str = ""
    brand: str = ""
    category: str = ""
    stuck: str = ""  # "1": only the offers stuck in Sending
    sort: str = DEFAULT_OFFER_SORT
    size: int = OFFER_PAGE_SIZES[0]
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> OfferFilters:
        sort = (params.get("sort") or "").strip()
        filters = cls(
            q=_text(params, "q"),
            channel=normalize_feed_id(_text(params, "channel")),
            status=_choice(params, "status", OFFER_STATUSES),
            errorCode=_text(params, "errorCode"),
            origin=_choice(params, "origin", ORIGINS),
            brand=_text(params, "brand"),
            category=_text(params, "category"),
            stuck="1" if _choice(params, "stuck", ("1", "true")) else "",
            sort=sort if sort in OFFER_SORTS else DEFAULT_OFFER_SORT,
            size=_number(params, "size", OFFER_PAGE_SIZES),
            page=_page(params),
        )
        return replace(filters, page=min(filters.page, filters.last_reachable_page))

    @property
    def last_reachable_page(self) -> int:
        return MAX_OFFER_OFFSET // self.size + 1

    @property
    def window(self) -> Window:
        return Window((self.page - 1) * self.size, self.size)

    @property
    def narrowed(self) -> bool:
        """Whether anything but the status tab narrows the list."""
        return self.narrowed_besides_stuck or bool(self.stuck)

    @property
    def narrowed_besides_stuck(self) -> bool:
        return any((self.q, self.channel, self.errorCode, self.origin, self.brand, self.category))

    def query(self, **changes: Any) -> str:
        """This list's query string, with ``changes``; defaults are left out."""
        return _encode(asdict(replace(self, **changes)), asdict(OfferFilters()))

    def export_query(self) -> str:
        """The filters alone (no sort or paging): what the CSV export takes."""
        return self.query(sort=DEFAULT_OFFER_SORT, size=OFFER_PAGE_SIZES[0], page=1)

    def service_filters(self) -> dict[str, Any]:
        """The keyword arguments of ``list_offers``/``iter_offers`` for these filters."""
        codes = [c.strip() for c in self.errorCode.split(",") if c.strip()]
        return {
            "channels_": [self.channel] if self.channel else [],
            "statuses": [self.status] if self.status else [],
            "origins": [self.origin] if self.origin else [],
            "codes": codes,
            "brand": self.brand or None,
            "category": self.category or None,
            "q": self.q or None,
            "stuck": True if self.stuck else None,
        }


@dataclass(frozen=True, slots=True)
class InteractionFilters:
    origin: str = ""
    result: str = ""
    size: int = INTERACTION_PAGE_SIZES[0]
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> InteractionFilters:
        return cls(
            origin=_choice(params, "origin", ORIGINS),
            result=_choice(params, "result", RESULTS),
            size=_number(params, "size", INTERACTION_PAGE_SIZES),
            page=min(_page(params), MAX_OFFER_OFFSET // INTERACTION_PAGE_SIZES[0] + 1),
        )

    @property
    def window(self) -> Window:
        return Window((self.page - 1) * self.size, self.size)

    def query(self, **changes: Any) -> str:
        return _encode(asdict(replace(self, **changes)), asdict(InteractionFilters()))
