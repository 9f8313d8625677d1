"""Open, log, close and read interactions, and the unified contract.

Every write runs in one unit of work: check the feed, lock the offers concerned (creating
those met for the first time), apply the domain rules in memory, then save all changes
with one statement per table. The batch form (``batch.py``) is the same path over many SKUs.

Ids arrive normalised (``sentoffers.domain.ids``, applied by the API and the web UI where a
request names them) and are matched as given.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from sentoffers.contract.interactions import (
    BatchItem,
    InteractionCreate,
    InteractionRead,
    LogCreate,
    LogCreated,
    LogRead,
    UnifiedCreate,
    UnifiedRead,
)
from sentoffers.domain import rules
from sentoffers.domain.errors import NotFound, Problem, ServiceError
from sentoffers.domain.idempotency import StoredResponse
from sentoffers.domain.model import Interaction, Log, LogType, Offer, OfferStatus
from sentoffers.server.features import retention as retention_rules
from sentoffers.server.features.feeds import require_active, require_visible
from sentoffers.server.features.interactions.building import build_interaction, build_log
from sentoffers.server.features.interactions.views import (
    interaction_fields,
    log_fields,
    log_row_view,
    notices,
)
from sentoffers.server.store import codec
from sentoffers.server.store import offers as offer_store
from sentoffers.server.store.offers import OfferChanges
from sentoffers.server.store.tables import interactions, logs
from sentoffers.sql.db import Database


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _begin(changes: OfferChanges, offer: Offer, interaction: Interaction, now: datetime) -> Offer:
    """Open ``interaction`` on ``offer``; an offer with no interaction yet is created by it."""
    if offer.last_interaction_id is None:
        created, effects = rules.create_offer(interaction, now)
        created.created_at = offer.created_at or now
        offer = created
    else:
        effects = rules.open_interaction(offer, interaction, now)
    changes.record(offer, interaction, effects)
    return offer


def _lock_offer(
    conn: Connection,
    account: str,
    feed_id: str,
    sku_id: str,
    *,
    create: bool,
    with_errors: bool,
    now: datetime,
) -> Offer | None:
    if create:
        offer_store.claim_new_offers(conn, account, feed_id, [sku_id], now)
    return offer_store.lock_offers(conn, account, feed_id, [sku_id], with_errors=with_errors).get(
        sku_id
    )


def open_interaction(
    db: Database,
    account: str,
    feed_id: str,
    sku_id: str,
    body: InteractionCreate,
    now: datetime | None = None,
) -> InteractionRead:
    now = _now(now)
    with db.unit_of_work() as uow:
        require_active(uow.conn, account, feed_id)
        offer = _lock_offer(
            uow.conn, account, feed_id, sku_id, create=True, with_errors=False, now=now
        )
        assert offer is not None
        changes = OfferChanges(account)
        interaction = build_interaction(body, feed_id, sku_id, now)
        _begin(changes, offer, interaction, now)
        offer_store.save(uow.conn, changes, now)
        uow.commit()
    return InteractionRead(**interaction_fields(account, interaction, []))


def _locked_pair(
    conn: Connection,
    account: str,
    feed_id: str,
    sku_id: str,
    interaction_id: str,
    *,
    with_errors: bool,
    now: datetime,
) -> tuple[Offer, Interaction]:
    """The offer and its interaction, locked for a write to an active feed."""
    require_active(conn, account, feed_id)
    offer = _lock_offer(
        conn, account, feed_id, sku_id, create=False, with_errors=with_errors, now=now
    )
    interaction = (
        offer_store.lock_interaction(conn, account, feed_id, sku_id, interaction_id)
        if offer
        else None
    )
    if offer is None or interaction is None:
        raise NotFound(
            f"interaction {interaction_id!r} does not exist for SKU {sku_id!r} in feed {feed_id!r}",
            field="interactionId",
        )
    return offer, interaction


def close_interaction(
    db: Database,
    account: str,
    feed_id: str,
    sku_id: str,
    interaction_id: str,
    now: datetime | None = None,
) -> None:
    now = _now(now)
    with db.unit_of_work() as uow:
        offer, interaction = _locked_pair(
            uow.conn, account, feed_id, sku_id, interaction_id, with_errors=True, now=now
        )
        changes = OfferChanges(account)
        changes.record(offer, interaction, rules.close_interaction(offer, interaction, now))
        offer_store.save(uow.conn, changes, now)
        uow.commit()


def create_log(
    db: Database,
    account: str,
    feed_id: str,
    sku_id: str,
    interaction_id: str,
    body: LogCreate,
    known_codes: Collection[str],
    now: datetime | None = None,
) -> LogCreated:
    now = _now(now)
    with db.unit_of_work() as uow:
        offer, interaction = _locked_pair(
            uow.conn,
            account,
            feed_id,
            sku_id,
            interaction_id,
            with_errors=body.type == LogType.FAILURE,
            now=now,
        )
        log, warnings, unmapped = build_log(body, interaction.id, known_codes, now)
        changes = OfferChanges(account, unmapped=unmapped)
        changes.record(offer, interaction, rules.append_log(offer, interaction, log, now), log)
        offer_store.save(uow.conn, changes, now)
        uow.commit()
    return LogCreated(**log_fields(log), warnings=notices(warnings))


def get_interaction(
    db: Database,
    account: str,
    feed_id: str,
    sku_id: str,
    interaction_id: str,
    *,
    retention: timedelta,
    max_logs: int | None = None,
) -> InteractionRead:
    """The interaction with its logs; 410 if the offer still names it but it was purged.

    ``retention`` words the 410's message for details that expired; ``max_logs`` keeps only
    the first logs (a page must not read an unbounded number of rows).
    """
    with db.unit_of_work(write=False) as uow:
        require_visible(uow.conn, account, feed_id)
        row = uow.conn.execute(
            select(interactions).where(
                interactions.c.account == account,
                interactions.c.id == interaction_id,
                interactions.c.feed_id == feed_id,
                interactions.c.sku_id == sku_id,
            )
        ).first()
        if row is None:
            if retention_rules.is_expired_interaction(
                uow.conn, account, feed_id, sku_id, interaction_id
            ):
                raise retention_rules.interaction_expired(interaction_id, retention)
            raise NotFound(
                f"interaction {interaction_id!r} does not exist for SKU {sku_id!r} "
                f"in feed {feed_id!r}",
                field="interactionId",
            )
        log_rows = uow.conn.execute(
            select(logs)
            .where(logs.c.account == account, logs.c.interaction_id == interaction_id)
            .order_by(logs.c.date, logs.c.seq)
            .limit(max_logs)
        )
        log_views = [log_row_view(r._mapping) for r in log_rows]
    interaction = codec.interaction_from_row(row._mapping)
    return InteractionRead(**interaction_fields(account, interaction, log_views))


def get_log(
    db: Database,
    account: str,
    feed_id: str,
    sku_id: str,
    interaction_id: str,
    log_id: str,
    *,
    retention: timedelta,
) -> LogRead:
    """One log; 410 if its interaction was purged but the offer still names it."""
    with db.unit_of_work(write=False) as uow:
        require_visible(uow.conn, account, feed_id)
        row = uow.conn.execute(
            select(logs).where(
                logs.c.account == account,
                logs.c.id == log_id,
                logs.c.interaction_id == interaction_id,
                logs.c.feed_id == feed_id,
                logs.c.sku_id == sku_id,
            )
        ).first()
        if row is None and retention_rules.is_expired_interaction(
            uow.conn, account, feed_id, sku_id, interaction_id
        ):
            raise retention_rules.interaction_expired(interaction_id, retention)
    if row is None:
        raise NotFound(
            f"log {log_id!r} does not exist in interaction {interaction_id!r}", field="logId"
        )
    return log_row_view(row._mapping)


@dataclass(slots=True)
class Applied:
    """What one unified item did: its interaction and logs, the offer's status after it."""

    offer: Offer
    interaction: Interaction
    logs: list[Log]
    offer_status: OfferStatus
    warnings: list[Problem] = field(default_factory=list)
    answer: StoredResponse | None = None
    """What the unified call answers, built by the write path (``unified_answer``)."""

    @property
    def log(self) -> Log:
        """The item's last log (the only one, in the unified call)."""
        return self.logs[-1]


Unified = UnifiedCreate | BatchItem
"""A unified item: the single call's body, or a batch item with one log or several."""


def _log_bodies(body: Unified) -> list[LogCreate]:
    return body.log_bodies() if isinstance(body, BatchItem) else [body]


def _apply_unified(
    changes: OfferChanges,
    offer: Offer,
    feed_id: str,
    sku_id: str,
    body: Unified,
    known_codes: Collection[str],
    now: datetime,
) -> Applied:
    """Open the interaction, append its logs in order and close it (Create Log's rules)."""
    interaction = build_interaction(body, feed_id, sku_id, now)
    offer = _begin(changes, offer, interaction, now)
    several = isinstance(body, BatchItem) and body.logs is not None
    written: list[Log] = []
    warnings: list[Problem] = []
    for index, log_body in enumerate(_log_bodies(body)):
        log, log_warnings, unmapped = build_log(log_body, interaction.id, known_codes, now)
        changes.unmapped.extend(unmapped)
        changes.add_effects(offer, rules.append_log(offer, interaction, log, now))
        changes.add_log(log, interaction)
        written.append(log)
        warnings.extend([_in_log(index, w) for w in log_warnings] if several else log_warnings)
    changes.add_effects(offer, rules.close_interaction(offer, interaction, now))
    return Applied(offer, interaction, written, offer.status, warnings)


def _in_log(index: int, problem: Problem) -> Problem:
    """A log's warning as one of an item's: its field says which log."""
    where = f"logs[{index}]" + (f".{problem.field}" if problem.field else "")
    return replace(problem, field=where)


def write_unified(
    conn: Connection,
    account: str,
    feed_id: str,
    items: Sequence[tuple[str, Unified]],
    known_codes: Collection[str],
    now: datetime,
) -> list[Applied | ServiceError]:
    """Apply unified items of one feed, in order, inside the caller's transaction.

    The single call, the batch endpoint and the group-commit writer all come here. An item
    the rules refuse fails alone; a feed that cannot be written raises for all its items.
    """
    require_active(conn, account, feed_id)
    skus = [sku for sku, _ in items]
    offer_store.claim_new_offers(conn, account, feed_id, skus, now)
    needs_errors = any(
        log.type in (LogType.FAILURE, LogType.SUCCESS)
        for _, body in items
        for log in _log_bodies(body)
    )
    offers = offer_store.lock_offers(conn, account, feed_id, skus, with_errors=needs_errors)
    changes = OfferChanges(account)
    results: list[Applied | ServiceError] = []
    for sku, body in items:
        try:
            applied = _apply_unified(changes, offers[sku], feed_id, sku, body, known_codes, now)
        except ServiceError as error:
            results.append(error)
            continue
        offers[sku] = applied.offer
        results.append(applied)
    offer_store.save(conn, changes, now)
    return results


def unified_view(account: str, applied: Applied) -> UnifiedRead:
    return UnifiedRead(
        **interaction_fields(account, applied.interaction, [LogRead(**log_fields(applied.log))]),
        offer_status=applied.offer_status.value,
        warnings=notices(applied.warnings),
    )


def unified_answer(account: str, applied: Applied) -> StoredResponse:
    """The unified call's answer: 201 with its ``UnifiedRead``."""
    return StoredResponse(201, "application/json", unified_view(account, applied).to_json())
