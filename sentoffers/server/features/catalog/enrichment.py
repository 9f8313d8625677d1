"""Filling in offers' metadata from the catalog, in the background.

An offer whose connector never sent its name is looked up once in the VTEX Catalog; the
name, image, productId, brand and category found there fill the fields that are still
empty, so a value a connector sent (even one that arrived during the lookup) always wins.

A pass:

1. claims a batch of offers of active feeds that have no name and were not asked about
   within the retry delay, by setting their ``metadata_checked_at`` (on PostgreSQL the rows
   a connector is writing are skipped, never waited for; several processes never claim the
   same offer);
2. asks the catalog, a few requests at a time, once per account and SKU;
3. writes what was found with one short ``UPDATE ... SET name = COALESCE(name, :name)`` per
   offer; an unknown SKU (404) is only marked as checked. A failed lookup (transport error,
   timeout, 5xx, refused credentials) keeps its claim, so the offer is asked about again
   after ``catalog_retry_seconds``; so is an offer still without a name.

None of it runs on a connector's write path, and a pass never raises: it logs and goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, tuple_, update

from sentoffers.server.features.catalog.client import (
    CatalogAuthError,
    CatalogClient,
    CatalogError,
    SkuMetadata,
    valid_account,
)
from sentoffers.server.settings import Settings
from sentoffers.server.store.tables import feeds, offers
from sentoffers.sql.db import Database

logger = logging.getLogger("sentoffers.catalog")

OfferKey = tuple[str, str, str]  # (account, feed_id, sku_id)
SkuKey = tuple[str, str]  # (account, sku_id)

_KEY = tuple_(offers.c.account, offers.c.feed_id, offers.c.sku_id)


@dataclass(slots=True)
class EnrichmentResult:
    """What one pass did, counted in offers."""

    claimed: int = 0
    found: int = 0
    not_found: int = 0
    failed: int = 0

    def describe(self) -> str:
        return (
            f"catalog metadata: {self.claimed} offer(s) looked up, {self.found} found, "
            f"{self.not_found} unknown to the catalog, {self.failed} to retry"
        )


def _due(cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        offers.c.name.is_(None),
        or_(offers.c.metadata_checked_at.is_(None), offers.c.metadata_checked_at < cutoff),
    )


def claim_offers(db: Database, now: datetime, cutoff: datetime, limit: int) -> list[OfferKey]:
    """Mark up to ``limit`` offers that are due as being looked up now, and return them."""
    feed_active = (
        exists()
        .where(feeds.c.account == offers.c.account, feeds.c.feed_id == offers.c.feed_id)
        .where(feeds.c.active.is_(True))
    )
    # Found without any lock: on SQLite a write transaction would hold up every writer
    # for as long as the search takes.
    with db.unit_of_work(write=False) as uow:
        candidates = [
            (row.account, row.feed_id, row.sku_id)
            for row in uow.conn.execute(
                select(offers.c.account, offers.c.feed_id, offers.c.sku_id)
                .where(_due(cutoff), feed_active)
                .limit(limit)
            )
        ]
    if not candidates:
        return []
    with db.unit_of_work() as uow:
        # Still due? (A connector may have sent a name, another process claimed it.)
        claimed: list[OfferKey] = [
            (row.account, row.feed_id, row.sku_id)
            for row in uow.conn.execute(
                select(offers.c.account, offers.c.feed_id, offers.c.sku_id)
                .where(_KEY.in_(candidates), _due(cutoff))
                .with_for_update(skip_locked=True)
            )
        ]
        if claimed:
            uow.conn.execute(
                update(offers).where(_KEY.in_(claimed)).values(metadata_checked_at=now)
            )
        uow.commit()
    return claimed


class _Skipped:
    """Not asked: the pass is stopping."""


_SKIPPED = _Skipped()
Outcome = SkuMetadata | None | CatalogError | _Skipped


def look_up(
    client: CatalogClient,
    skus: Sequence[SkuKey],
    *,
    concurrency: int,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[SkuKey, Outcome]:
    """Ask the catalog about each (account, SKU), ``concurrency`` requests at a time.

    Once the catalog refuses the credentials for an account, its other SKUs are not asked
    about in this pass.
    """
    refused: dict[str, CatalogAuthError] = {}
    lock = threading.Lock()

    def one(key: SkuKey) -> Outcome:
        account, sku_id = key
        if should_stop():
            return _SKIPPED
        with lock:
            refusal = refused.get(account)
        if refusal is not None:
            return refusal
        if not valid_account(account):
            return None  # no catalog can be asked about it: nothing to find, nothing to retry
        try:
            return client.fetch_sku(account, sku_id)
        except CatalogAuthError as error:
            with lock:
                refused.setdefault(account, error)
            return error
        except CatalogError as error:
            return error
        except Exception as error:  # a bug must not stop the other lookups
            logger.exception("catalog lookup of SKU %s (account %s) failed", sku_id, account)
            return CatalogError(str(error))

    if not skus:
        return {}
    with ThreadPoolExecutor(
        max_workers=min(concurrency, len(skus)), thread_name_prefix="catalog"
    ) as pool:
        return dict(zip(skus, pool.map(one, skus), strict=True))


def write_metadata(
    db: Database, key: OfferKey, metadata: SkuMetadata | None, now: datetime
) -> None:
    """Fill the offer's still-empty metadata fields with ``metadata`` and mark it checked.

    One row, one short transaction: nothing else is held while it waits for a connector
    that is writing the same offer, and a value the connector sent is kept.
    """
    values: dict[str, Any] = {"metadata_checked_at": now}
    if metadata is not None:
        for column, value in metadata.as_columns().items():
            if value is not None:
                values[column] = func.coalesce(offers.c[column], value)
    with db.unit_of_work() as uow:
        account, feed_id, sku_id = key
        uow.conn.execute(
            update(offers)
            .where(offers.c.account == account, offers.c.feed_id == feed_id)
            .where(offers.c.sku_id == sku_id)
            .values(**values)
        )
        uow.commit()


def enrich_offers(
    db: Database,
    settings: Settings,
    *,
    client: CatalogClient | None = None,
    now: datetime | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> EnrichmentResult:
    """One pass: claim a batch of offers without a name, ask the catalog, fill them in.

    Does nothing while ``catalog_base_url`` is not set. ``client`` defaults to one made
    from ``settings`` (and closed afterwards).
    """
    result = EnrichmentResult()
    if not settings.catalog_base_url:
        return result
    now = now or datetime.now(UTC)
    claimed = claim_offers(db, now, now - settings.catalog_retry, settings.catalog_batch_size)
    result.claimed = len(claimed)
    if not claimed:
        return result
    skus = list(dict.fromkeys((account, sku_id) for account, _, sku_id in claimed))
    own_client = client is None
    catalog = client if client is not None else CatalogClient.from_settings(settings)
    try:
        outcomes = look_up(
            catalog, skus, concurrency=settings.catalog_concurrency, should_stop=should_stop
        )
    finally:
        if own_client:
            catalog.close()

    failures: list[CatalogError] = []
    for key in claimed:
        outcome = outcomes.get((key[0], key[2]), _SKIPPED)
        if isinstance(outcome, CatalogError):
            failures.append(outcome)
            result.failed += 1
            continue
        if isinstance(outcome, _Skipped):
            result.failed += 1
            continue
        try:
            write_metadata(db, key, outcome, now)
        except Exception:
            logger.exception("could not store the catalog metadata of offer %s", key)
            result.failed += 1
            continue
        if outcome is None:
            result.not_found += 1
        else:
            result.found += 1
    _log_failures(failures, settings)
    return result


def _log_failures(failures: Sequence[CatalogError], settings: Settings) -> None:
    if not failures:
        return
    refusals = {str(error) for error in failures if isinstance(error, CatalogAuthError)}
    for message in sorted(refusals):
        logger.warning("catalog refused the credentials: %s", message)
    others = [error for error in failures if not isinstance(error, CatalogAuthError)]
    if others:
        logger.warning(
            "catalog lookup failed for %d offer(s), retrying after %ss; first: %s",
            len(others),
            f"{settings.catalog_retry_seconds:g}",
            others[0],
        )


class CatalogEnrichment:
    """One pass of the catalog lookup as a background job; ``close`` when the jobs stop."""

    def __init__(self, settings: Settings, db: Database, client: CatalogClient) -> None:
        self._settings, self._db, self._client = settings, db, client

    def __call__(self, stop: threading.Event) -> str | None:
        """A pass; it stops asking once ``stop`` is set."""
        result = enrich_offers(
            self._db, self._settings, client=self._client, should_stop=stop.is_set
        )
        return result.describe() if result.claimed else None

    def close(self) -> None:
        self._client.close()


def catalog_enrichment(settings: Settings, db: Database) -> CatalogEnrichment | None:
    """The catalog lookup job, or ``None`` (the reason logged) when no catalog client can be
    made of ``settings``."""
    try:
        client = CatalogClient.from_settings(settings)
    except Exception:
        logger.exception("catalog metadata lookups are off: no catalog client")
        return None
    return CatalogEnrichment(settings, db, client)
