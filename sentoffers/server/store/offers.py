"""The offer aggregate in storage: offers, their interactions, logs, errors and history.

Reads lock the rows they will change (``FOR UPDATE`` on PostgreSQL; SQLite serializes
writers), always offers before interactions and in SKU order, so writers never deadlock.
Writes are set-oriented: one statement per table for a whole batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from sentoffers.domain.ids import new_id
from sentoffers.domain.model import Interaction, Log, Offer, OfferStatus
from sentoffers.domain.rules import Effects
from sentoffers.server.store import codec
from sentoffers.server.store.tables import (
    error_occurrences,
    interactions,
    logs,
    offer_status_counts,
    offer_status_history,
    offers,
    unmapped_errors,
)
from sentoffers.sql.dialect import insert_ignoring_conflicts, upsert_rows

OfferKey = tuple[str, str]  # (feed_id, sku_id)


def lock_offers(
    conn: Connection, account: str, feed_id: str, sku_ids: Iterable[str], *, with_errors: bool
) -> dict[str, Offer]:
    """The existing offers among ``sku_ids``, locked for update, with open errors if asked."""
    wanted = sorted(set(sku_ids))
    if not wanted:
        return {}
    stmt = (
        select(offers)
        .where(offers.c.account == account, offers.c.feed_id == feed_id)
        .where(offers.c.sku_id.in_(wanted))
        .order_by(offers.c.sku_id)
        .with_for_update()
    )
    found = {row.sku_id: codec.offer_from_row(row._mapping) for row in conn.execute(stmt)}
    if with_errors and found:
        errors = conn.execute(
            select(error_occurrences).where(
                error_occurrences.c.account == account,
                error_occurrences.c.feed_id == feed_id,
                error_occurrences.c.sku_id.in_(list(found)),
                error_occurrences.c.open.is_(True),
            )
        )
        for row in errors:
            found[row.sku_id].open_errors.append(codec.occurrence_from_row(row._mapping))
        for offer in found.values():
            offer.open_errors.sort(key=lambda e: (e.date, e.id))
    return found


def claim_new_offers(
    conn: Connection, account: str, feed_id: str, sku_ids: Sequence[str], now: datetime
) -> None:
    """Insert placeholder rows for offers that may not exist yet, ignoring those that do.

    Two writers creating the same offer then serialize on its row instead of one failing.
    """
    if not sku_ids:
        return
    conn.execute(
        insert_ignoring_conflicts(conn, offers),
        [
            {
                "account": account,
                "feed_id": feed_id,
                "sku_id": sku,
                "status": OfferStatus.SENDING.value,
                "created_at": now,
                "updated_at": now,
                "status_since": now,
            }
            for sku in sorted(set(sku_ids))
        ],
    )


def lock_interaction(
    conn: Connection, account: str, feed_id: str, sku_id: str, interaction_id: str
) -> Interaction | None:
    row = conn.execute(
        select(interactions)
        .where(
            interactions.c.account == account,
            interactions.c.id == interaction_id,
            interactions.c.feed_id == feed_id,
            interactions.c.sku_id == sku_id,
        )
        .with_for_update()
    ).first()
    return codec.interaction_from_row(row._mapping) if row else None


@dataclass(slots=True)
class UnmappedSighting:
    fingerprint: str
    code: str
    description: str
    seen_at: datetime


@dataclass(slots=True)
class OfferChanges:
    """Everything one unit of work changed in the offer aggregate, written by ``save``."""

    account: str
    offers: dict[OfferKey, Offer] = field(default_factory=dict)
    interactions: dict[str, Interaction] = field(default_factory=dict)
    logs: list[tuple[Log, Interaction]] = field(default_factory=list)
    effects: list[tuple[Offer, Effects]] = field(default_factory=list)
    unmapped: list[UnmappedSighting] = field(default_factory=list)

    def touch_offer(self, offer: Offer) -> None:
        self.offers[(offer.feed_id, offer.sku_id)] = offer

    def touch_interaction(self, interaction: Interaction) -> None:
        self.interactions[interaction.id] = interaction

    def add_log(self, log: Log, interaction: Interaction) -> None:
        self.logs.append((log, interaction))

    def add_effects(self, offer: Offer, effects: Effects) -> None:
        self.effects.append((offer, effects))

    def record(
        self, offer: Offer, interaction: Interaction, effects: Effects, log: Log | None = None
    ) -> None:
        """What one rule did to an offer and its interaction, and the log it added."""
        self.touch_offer(offer)
        self.touch_interaction(interaction)
        if log is not None:
            self.add_log(log, interaction)
        self.add_effects(offer, effects)


def save(conn: Connection, changes: OfferChanges, now: datetime) -> None:
    """Write ``changes`` with one statement per table; changed rows are upserted whole."""
    account = changes.account
    upsert_rows(
        conn,
        interactions,
        [codec.interaction_to_row(account, i, now) for i in changes.interactions.values()],
        codec.INTERACTION_MUTABLE,
    )
    # An interaction's log_count already counts the logs written here; they are numbered
    # after the ones stored before, in the order they were added.
    pending = Counter(interaction.id for _, interaction in changes.logs)
    numbered: Counter[str] = Counter()
    log_rows = []
    for log, interaction in changes.logs:
        numbered[interaction.id] += 1
        seq = interaction.log_count - pending[interaction.id] + numbered[interaction.id]
        log_rows.append(
            codec.log_to_row(account, log, interaction.feed_id, interaction.sku_id, seq, now)
        )
    if log_rows:
        conn.execute(logs.insert(), log_rows)
    # Columns a log's data never touched here stay out of the SET list, so SQLite leaves
    # the indexes over them (brand, category, offer id, catalog queue) alone.
    described = any(
        getattr(log.data, name) is not None
        for log, _ in changes.logs
        for name in codec.OFFER_DESCRIPTION
    )
    upsert_rows(
        conn,
        offers,
        [codec.offer_to_row(account, o) for o in changes.offers.values()],
        codec.OFFER_MUTABLE if described else codec.OFFER_STATE,
    )
    _save_effects(conn, account, changes.effects)
    _save_unmapped(conn, account, changes.unmapped)


OCCURRENCE_MUTABLE = (
    *("interaction_id", "log_id", "date", "origin", "title", "description"),
    *("closable_origins", "open", "closed_at", "closed_by_interaction_id"),
)


def _save_effects(conn: Connection, account: str, effects: list[tuple[Offer, Effects]]) -> None:
    history: list[dict[str, object]] = []
    # The last state of each error wins: one opened and closed here is written closed.
    errors: dict[str, dict[str, Any]] = {}
    for offer, effect in effects:
        history.extend(
            {
                "account": account,
                "id": new_id(),
                "feed_id": offer.feed_id,
                "sku_id": offer.sku_id,
                "from_status": change.from_status.value if change.from_status else None,
                "to_status": change.to_status.value,
                "interaction_id": change.interaction_id,
                "log_id": change.log_id,
                "reason": change.reason,
                "changed_at": change.changed_at,
            }
            for change in effect.status_changes
        )
        for error in (*effect.opened_errors, *effect.refreshed_errors, *effect.closed_errors):
            errors[error.id] = codec.occurrence_to_row(account, offer, error)
    if history:
        conn.execute(offer_status_history.insert(), history)
    upsert_rows(conn, error_occurrences, list(errors.values()), OCCURRENCE_MUTABLE)
    _save_status_counts(conn, account, effects)


def _save_status_counts(
    conn: Connection, account: str, effects: list[tuple[Offer, Effects]]
) -> None:
    """Move each changed offer from its old status's count to its new one's."""
    deltas: Counter[tuple[str, str]] = Counter()
    for offer, effect in effects:
        for change in effect.status_changes:
            if change.from_status is not None:
                deltas[(offer.feed_id, change.from_status.value)] -= 1
            deltas[(offer.feed_id, change.to_status.value)] += 1
    upsert_rows(
        conn,
        offer_status_counts,
        [
            {"account": account, "feed_id": feed, "status": status, "offers": delta}
            for (feed, status), delta in sorted(deltas.items())
            if delta
        ],
        {"offers": lambda excluded, table: table.c.offers + excluded.offers},
    )


def _save_unmapped(conn: Connection, account: str, sightings: list[UnmappedSighting]) -> None:
    grouped: dict[str, dict[str, Any]] = {}
    for s in sightings:
        row = grouped.get(s.fingerprint)
        if row is None:
            grouped[s.fingerprint] = {
                "account": account,
                "fingerprint": s.fingerprint,
                "sample_code": s.code,
                "sample_description": s.description,
                "occurrences": 1,
                "first_seen": s.seen_at,
                "last_seen": s.seen_at,
            }
        else:
            row["occurrences"] += 1
            row["first_seen"] = min(row["first_seen"], s.seen_at)
            row["last_seen"] = max(row["last_seen"], s.seen_at)
    upsert_rows(
        conn,
        unmapped_errors,
        list(grouped.values()),
        {
            "occurrences": lambda excluded, table: table.c.occurrences + excluded.occurrences,
            "last_seen": lambda excluded, _: excluded.last_seen,
        },
    )
