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

from sqlalchemy import Connection, and_, bindparam, select, tuple_, update

from sentoffers.domain.ids import new_id
from sentoffers.domain.model import Interaction, Log, Offer, OfferStatus
from sentoffers.domain.rules import Effects
from sentoffers.store import codec
from sentoffers.store.dialect import insert_ignoring_conflicts, upsert
from sentoffers.store.tables import (
    error_occurrences,
    interactions,
    logs,
    offer_status_history,
    offers,
    unmapped_errors,
)

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
    new_offers: dict[OfferKey, Offer] = field(default_factory=dict)
    offers: dict[OfferKey, Offer] = field(default_factory=dict)
    new_interactions: dict[str, Interaction] = field(default_factory=dict)
    interactions: dict[str, Interaction] = field(default_factory=dict)
    logs: list[tuple[Log, Interaction]] = field(default_factory=list)
    effects: list[tuple[Offer, Effects]] = field(default_factory=list)
    unmapped: list[UnmappedSighting] = field(default_factory=list)

    def touch_offer(self, offer: Offer, *, new: bool = False) -> None:
        key = (offer.feed_id, offer.sku_id)
        (self.new_offers if new else self.offers)[key] = offer

    def touch_interaction(self, interaction: Interaction, *, new: bool = False) -> None:
        if new:
            self.new_interactions[interaction.id] = interaction
        elif interaction.id not in self.new_interactions:
            self.interactions[interaction.id] = interaction

    def add_log(self, log: Log, interaction: Interaction) -> None:
        # Its sequence number within the interaction is the count after appending.
        self.logs.append((log, interaction))

    def add_effects(self, offer: Offer, effects: Effects) -> None:
        self.effects.append((offer, effects))


def save(conn: Connection, changes: OfferChanges, now: datetime) -> None:
    """Write ``changes`` with one statement per table."""
    account = changes.account
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
    if changes.new_interactions:
        conn.execute(
            interactions.insert(),
            [codec.interaction_to_row(account, i, now) for i in changes.new_interactions.values()],
        )
    if changes.interactions:
        conn.execute(
            update(interactions)
            .where(interactions.c.account == account, interactions.c.id == bindparam("b_id"))
            .values({name: bindparam(f"b_{name}") for name in codec.INTERACTION_MUTABLE}),
            [
                {"b_id": i.id, **_prefixed(codec.interaction_to_row(account, i, now))}
                for i in changes.interactions.values()
            ],
        )
    if log_rows:
        conn.execute(logs.insert(), log_rows)
    all_offers = {**changes.offers, **changes.new_offers}
    if all_offers:
        conn.execute(
            update(offers)
            .where(
                offers.c.account == account,
                offers.c.feed_id == bindparam("b_feed_id"),
                offers.c.sku_id == bindparam("b_sku_id"),
            )
            .values({name: bindparam(f"b_{name}") for name in codec.OFFER_MUTABLE}),
            [
                {**_prefixed(codec.offer_to_row(account, o)), "b_feed_id": o.feed_id}
                | {"b_sku_id": o.sku_id}
                for o in all_offers.values()
            ],
        )
    _save_effects(conn, account, changes.effects)
    _save_unmapped(conn, account, changes.unmapped)


def _prefixed(row: dict[str, object]) -> dict[str, object]:
    return {f"b_{key}": value for key, value in row.items()}


def _save_effects(conn: Connection, account: str, effects: list[tuple[Offer, Effects]]) -> None:
    history: list[dict[str, object]] = []
    opened: list[dict[str, Any]] = []
    changed: dict[str, dict[str, Any]] = {}
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
        opened_ids = {e.id for e in effect.opened_errors}
        opened.extend(codec.occurrence_to_row(account, offer, e) for e in effect.opened_errors)
        for error in (*effect.refreshed_errors, *effect.closed_errors):
            if error.id not in opened_ids:
                changed[error.id] = codec.occurrence_to_row(account, offer, error)
    # An error opened and closed in the same unit of work is inserted in its final state.
    final = {row["id"]: row for row in opened}
    for error_id, row in list(changed.items()):
        if error_id in final:
            final[error_id] = row
            del changed[error_id]
    if history:
        conn.execute(offer_status_history.insert(), history)
    if final:
        conn.execute(error_occurrences.insert(), list(final.values()))
    if changed:
        mutable = (
            *("interaction_id", "log_id", "date", "origin", "title", "description"),
            *("closable_origins", "open", "closed_at", "closed_by_interaction_id"),
        )
        conn.execute(
            update(error_occurrences)
            .where(
                and_(
                    error_occurrences.c.account == account,
                    error_occurrences.c.id == bindparam("b_id"),
                )
            )
            .values({name: bindparam(f"b_{name}") for name in mutable}),
            [_prefixed(row) for row in changed.values()],
        )


def _save_unmapped(conn: Connection, account: str, sightings: list[UnmappedSighting]) -> None:
    if not sightings:
        return
    grouped: dict[str, tuple[UnmappedSighting, int, datetime, datetime]] = {}
    for s in sightings:
        first = grouped.get(s.fingerprint)
        if first is None:
            grouped[s.fingerprint] = (s, 1, s.seen_at, s.seen_at)
        else:
            sample, count, lo, hi = first
            grouped[s.fingerprint] = (sample, count + 1, min(lo, s.seen_at), max(hi, s.seen_at))
    stmt = upsert(
        conn,
        unmapped_errors,
        ["account", "fingerprint"],
        {
            "occurrences": lambda ex, t: t.c.occurrences + ex.occurrences,
            "last_seen": lambda ex, _: ex.last_seen,
        },
    )
    for sample, count, first_seen, last_seen in grouped.values():
        conn.execute(
            stmt,
            {
                "account": account,
                "fingerprint": sample.fingerprint,
                "sample_code": sample.code,
                "sample_description": sample.description,
                "occurrences": count,
                "first_seen": first_seen,
                "last_seen": last_seen,
            },
        )


def offers_exist(conn: Connection, account: str, keys: Sequence[OfferKey]) -> set[OfferKey]:
    if not keys:
        return set()
    rows = conn.execute(
        select(offers.c.feed_id, offers.c.sku_id).where(
            offers.c.account == account,
            tuple_(offers.c.feed_id, offers.c.sku_id).in_(list(keys)),
        )
    )
    return {(r.feed_id, r.sku_id) for r in rows}
