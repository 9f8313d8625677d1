"""The offer list as CSV: every offer under the list's filters, streamed in key order."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from sentoffers.contract.offers import OfferSummary
from sentoffers.domain.model import OFFER_FIELDS
from sentoffers.server.features.offers import service as offers
from sentoffers.server.web.api.deps import Db
from sentoffers.server.web.ui.filters import OfferFilters
from sentoffers.server.web.ui.session import SignedIn

router = APIRouter(include_in_schema=False)

# The offer's fields, with its channel, status and open errors after its name.
_FIELDS = tuple(f.name for f in OFFER_FIELDS if f.exported and f.name != "name")
HEADER = (
    *("sku_id", "name", "channel_id", "channel_name", "status", "open_errors"),
    *_FIELDS,
    "updated_at",
)
# A cell starting with one of these is a formula to a spreadsheet (tab and carriage
# return too, by OWASP's advice); a leading quote makes it text again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _row(offer: OfferSummary) -> list[str]:
    values = (
        *(offer.sku_id, offer.name, offer.feed_id, offer.channel.name),
        *(offer.status, offer.open_error_count),
        *(getattr(offer, name) for name in _FIELDS),
        offer.updated_at,
    )
    return [neutralise(v) for v in values]


def csv_chunks(chunks: Iterable[list[OfferSummary]]) -> Iterator[bytes]:
    """The header row, then one block of rows per chunk of offers, UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    yield buffer.getvalue().encode()
    for chunk in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(_row(offer) for offer in chunk)
        yield buffer.getvalue().encode()


def _filename(account: str) -> str:
    return f"offers-{re.sub(r'[^A-Za-z0-9._-]', '_', account)}.csv"


@router.get("/offers.csv")
def export_offers(request: Request, viewer: SignedIn, db: Db) -> StreamingResponse:
    filters = OfferFilters.parse(request.query_params)
    chunks = offers.iter_offers(db, viewer.account, **filters.service_filters())
    return StreamingResponse(
        csv_chunks(chunks),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_filename(viewer.account)}"'},
    )
